public import S3Protocol

/// The error page for people: the same facts as the S3 XML error document (one `S3Error.Wire`),
/// shown with the status, the request id and a link back.
extension HTMLPages {
    /// Where an error page leads back to: the containing folder, or the bucket list.
    public struct Back: Equatable, Sendable {
        public var href: String
        public var label: String

        public init(href: String, label: String) {
            self.href = href
            self.label = label
        }
    }

    /// What a person refused by a private bucket is told: how such a bucket opens.
    public static let privateBucketHint = "This bucket is private. It opens to an S3 client with an access key allowed on it, "
        + "to a presigned URL for one object, or through a capability link (a URL with /_x2s3/c/ in it) for a folder: "
        + "ask whoever shares the data for one."

    /// What a person whose capability link was refused is told.
    public static let capabilityHint = "This link has expired, or it does not open this path: "
        + "a capability link opens one folder until a date. Ask whoever shared it for a new one."

    /// One error as a page. `resource` is the request path the XML document would name.
    public static func error(_ w: S3Error.Wire, resource: String, requestID: String, back: Back, context: Context,
                             hint: String? = nil) -> String {
        let reason = HTTPStatus.knownReason(w.status) ?? "Error"
        var s = head(title: "\(w.status) \(reason)", context: context)
        s += "<main class=\"error\"><p class=\"status\"><span class=\"badge err\">\(w.status)</span> \(htmlEscape(reason))</p>"
        s += "<h1>\(htmlEscape(w.message))</h1>"
        if let hint { s += "<p class=\"hint\">\(htmlEscape(hint))</p>" }
        s += "<dl class=\"facts\"><div><dt>Code</dt><dd><code>\(htmlEscape(w.code))</code></dd></div>"
        if w.namesResource {
            s += "<div><dt>Resource</dt><dd><code>\(htmlEscape(resource))</code></dd></div>"
        }
        for f in w.fields where !f.value.isEmpty {
            s += "<div><dt>\(htmlEscape(f.name))</dt><dd><code>\(htmlEscape(f.value))</code></dd></div>"
        }
        s += "<div><dt>Request id</dt><dd><code class=\"rid\">\(htmlEscape(requestID))</code></dd></div></dl>"
        s += "<p class=\"actions\"><a class=\"btn primary back\" href=\"\(htmlEscape(back.href))\">\(icon("up"))"
        s += "Back to \(htmlEscape(back.label))</a></p>"
        return s + "</main>" + foot(context: context, extra: nil)
    }
}
