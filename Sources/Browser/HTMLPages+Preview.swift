import S3Protocol

/// The preview page (`<object URL>?preview`): the object's facts, its raw and download links,
/// its copyable URLs, and its content when it can be shown (`Preview.Body`).
extension HTMLPages {
    /// What the page says about the object.
    public struct PreviewFacts: Sendable {
        public var size: UInt64
        public var lastModified: Int64
        public var etag: String?
        /// The Content-Type a GET of the object sends.
        public var contentType: String

        public init(size: UInt64, lastModified: Int64, etag: String?, contentType: String) {
            self.size = size
            self.lastModified = lastModified
            self.etag = etag
            self.contentType = contentType
        }
    }

    /// `browseable` false (a key-only bucket): no links to folders, which would answer 403.
    public static func preview(bucket: String, key: String, browseable: Bool, facts: PreviewFacts, body: Preview.Body,
                               context: Context) -> String {
        let segments = key.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let name = segments.last ?? key
        let raw = context.href(bucket: bucket, key: key)
        let download = raw + "?response-content-disposition=" + urlSegment(MediaType.attachmentDisposition(forKey: key))
        var s = head(title: name, context: context)
        s += "<main class=\"preview-page\">"
        if browseable {
            s += breadcrumb(bucket: bucket, segments: segments, context: context)
        } else {
            s += "<nav class=\"crumbs\" aria-label=\"Breadcrumb\"><a href=\"\(htmlEscape(context.home))\">Buckets</a></nav>"
        }
        s += "<h1>\(icon("file"))\(htmlEscape(name))</h1>"
        s += "<dl class=\"facts file-facts\">"
        s += "<div><dt>Size</dt><dd title=\"\(grouped(facts.size)) bytes\">\(humanSize(facts.size))</dd></div>"
        s += "<div><dt>Last modified (UTC)</dt><dd><time datetime=\"\(HTTPDate.iso8601(facts.lastModified))\">\(shortDate(facts.lastModified))</time></dd></div>"
        s += "<div><dt>Type</dt><dd><code>\(htmlEscape(facts.contentType))</code></dd></div>"
        if let etag = facts.etag { s += "<div><dt>ETag</dt><dd><code>\(htmlEscape(etag))</code></dd></div>" }
        s += "</dl>"
        s += "<p class=\"actions\"><a class=\"btn primary raw\" href=\"\(htmlEscape(raw))\">Raw</a>"
        s += "<a class=\"btn download\" href=\"\(htmlEscape(download))\">\(icon("down"))Download</a>"
        if browseable {
            let folder = context.href(bucket: bucket, key: segments.dropLast().map { $0 + "/" }.joined())
            s += "<a class=\"btn folder\" href=\"\(htmlEscape(folder))\">\(icon("up"))Folder</a>"
        }
        s += "</p><dl class=\"urls\">"
        s += urlRow(label: "S3", id: "u-s3", value: "s3://" + bucket + "/" + key)
        s += urlRow(label: "HTTPS", id: "u-https", value: context.origin + raw)
        s += "</dl>"
        s += content(body, name: name, raw: raw, size: facts.size)
        return s + "</main>" + foot(context: context, extra: nil)
    }

    static func content(_ body: Preview.Body, name: String, raw: String, size: UInt64) -> String {
        switch body {
        case .text(let text):
            return "<pre class=\"preview text\"><code>\(htmlEscape(text))</code></pre>"
        case .json(let html):
            return "<pre class=\"preview json\"><code>\(html)</code></pre>"
        case .invalidJSON(let text):
            return "<p class=\"note\">This is not valid JSON; it is shown as text.</p>"
                + "<pre class=\"preview text\"><code>\(htmlEscape(text))</code></pre>"
        case .markdown(let html):
            return "<article class=\"preview markdown\">\(html)</article>"
        case .table(let rows, let total):
            var s = ""
            if total > rows.count {
                s += "<p class=\"note\">The first \(grouped(UInt64(rows.count))) of \(grouped(UInt64(total))) rows.</p>"
            }
            let width = rows.map(\.count).max() ?? 0
            s += "<div class=\"table-wrap\"><table class=\"preview grid\">"
            for (i, row) in rows.enumerated() {
                let cell = i == 0 ? "th" : "td"
                if i == 0 { s += "<thead>" } else if i == 1 { s += "<tbody>" }
                s += "<tr>"
                for j in 0..<width { s += "<\(cell)>\(htmlEscape(j < row.count ? row[j] : ""))</\(cell)>" }
                s += "</tr>"
                if i == 0 { s += "</thead>" }
            }
            if rows.count > 1 { s += "</tbody>" }
            return s + "</table></div>"
        case .image:
            return "<figure class=\"preview image\"><img src=\"\(htmlEscape(raw))\" alt=\"\(htmlEscape(name))\"></figure>"
        case .empty:
            return "<p class=\"note\">This file is empty.</p>"
        case .tooLarge(let limit):
            return "<p class=\"note\">This file is \(humanSize(size)); previews show files up to \(humanSize(limit)). "
                + "Open it raw or download it.</p>"
        case .binary(let type):
            return "<p class=\"note\">There is no preview for this type of file (<code>\(htmlEscape(type))</code>). "
                + "Open it raw or download it.</p>"
        }
    }
}
