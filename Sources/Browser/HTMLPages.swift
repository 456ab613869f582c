import S3Protocol
public import Storage

/// The HTML pages for people: the bucket index and folder pages. Pure functions of their
/// inputs; every interpolated text goes through `htmlEscape`, every href segment through
/// `urlSegment` (and the whole href through `htmlEscape` again, for the attribute).
public enum HTMLPages {
    /// Where the page is served from, to build links that work path-style, virtual-host and
    /// behind a `base_url` with a path.
    public struct Context: Sendable {
        /// `http` or `https`, as the client sees it.
        public var scheme: String
        /// The Host header (with its port), as the client sent it.
        public var host: String
        /// True when the bucket comes from the Host header (`bucket.data.example.org`).
        public var virtualHost: Bool
        /// The base URL's path (`/` unless x2s3 is mounted under a path); ends with `/`.
        public var basePath: String
        /// The configured `base_url`, if any.
        public var baseURL: String?
        /// Where the viewer links lead.
        public var viewers: ViewerSettings

        public init(scheme: String, host: String, virtualHost: Bool, basePath: String, baseURL: String?,
                    viewers: ViewerSettings = ViewerSettings()) {
            self.scheme = scheme
            self.host = host
            self.virtualHost = virtualHost
            self.basePath = basePath.hasSuffix("/") ? basePath : basePath + "/"
            self.baseURL = baseURL
            self.viewers = viewers
        }

        /// Through a capability link: the href of the granted prefix. Pages link nothing that does
        /// not start with it (the grant opens nothing else), and "home" is that folder.
        public var floor: String?

        /// Whether a link to `href` may be shown (it is inside the floor, if any).
        public func links(_ href: String) -> Bool { floor.map { href.hasPrefix($0) } ?? true }

        /// `scheme://host`, for absolute URLs to copy or hand to viewers.
        public var origin: String { "\(scheme)://\(host)" }

        /// The bucket list: on a virtual host it lives on the base host, else under the base path.
        public var home: String { floor.map(Self.folder) ?? (virtualHost ? (baseURL ?? basePath) : basePath) }

        /// The folder an href is in or is (`/b/ds/v2` → `/b/ds/`): a capability's top page.
        static func folder(_ href: String) -> String {
            href.hasSuffix("/") ? href : String(href[...(href.lastIndex(of: "/") ?? href.startIndex)])
        }

        /// The href of a compiled-in asset.
        public func asset(_ name: String) -> String { basePath + "static/" + name }

        /// The href of a bucket's root folder (ends with `/`).
        public func bucketRoot(_ bucket: String) -> String {
            virtualHost ? basePath : basePath + urlSegment(bucket) + "/"
        }

        /// The href of a key (or folder prefix) in a bucket, each segment percent-encoded.
        public func href(bucket: String, key: String) -> String { bucketRoot(bucket) + urlPath(key) }

        /// The S3 endpoint clients should use: the base URL's host for virtual buckets.
        public var s3Endpoint: String { virtualHost ? (baseURL ?? origin + basePath) : origin + basePath }
    }

    /// The root page: the browseable buckets (the caller passes only those), in config order.
    public static func index(targets: [Target], context: Context) -> String {
        var s = head(title: "Buckets", context: context)
        s += "<main><h1>Buckets</h1>"
        if targets.isEmpty {
            s += "<p class=\"empty\">No buckets are published here.</p>"
        } else {
            s += "<p class=\"summary\">\(targets.count) bucket\(targets.count == 1 ? "" : "s")</p>"
            s += "<table class=\"listing\"><thead><tr><th>Name</th><th class=\"kind-col\">Kind</th></tr></thead><tbody>"
            for t in targets {
                let kind = t.kindName
                // The index is served on the base host only, so its links are path-style.
                let href = (context.virtualHost ? context.home : context.basePath) + urlSegment(t.name) + "/"
                s += "<tr><td class=\"name\">\(icon("bucket"))<a href=\"\(htmlEscape(href))\">\(htmlEscape(t.name))</a></td>"
                s += "<td><span class=\"kind\">\(kind)</span></td></tr>"
            }
            s += "</tbody></table>"
        }
        return s + "</main>" + foot(context: context, extra: nil)
    }

    /// The document head and the page header (logo linking home). Keeps the original's
    /// `noindex,follow`.
    static func head(title: String, context: Context) -> String {
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            + "<meta name=\"robots\" content=\"noindex,follow\">"
            + "<title>\(htmlEscape(title)) · x2s3</title>"
            + "<link rel=\"icon\" href=\"\(htmlEscape(context.basePath))favicon.ico\" sizes=\"16x16\">"
            + "<link rel=\"icon\" href=\"\(htmlEscape(context.asset("logo.svg")))\" type=\"image/svg+xml\">"
            + "<link rel=\"stylesheet\" href=\"\(htmlEscape(context.asset("x2s3.css")))\">"
            + "<script src=\"\(htmlEscape(context.asset("x2s3.js")))\" defer></script></head><body>"
            + "<header class=\"top\"><a class=\"brand\" href=\"\(htmlEscape(context.home))\">"
            + "<img src=\"\(htmlEscape(context.asset("logo.svg")))\" alt=\"\" width=\"22\" height=\"22\">x2s3</a>"
            + "<span class=\"host\">\(htmlEscape(context.host))</span></header>"
            + iconSymbols
    }

    static func foot(context: Context, extra: String?) -> String {
        var s = "<footer>x2s3 · read-only S3 gateway · S3 endpoint <code>\(htmlEscape(context.s3Endpoint))</code>"
        if let extra { s += " · " + extra }
        return s + "</footer></body></html>\n"
    }

    /// Inline SVG symbols, defined once per page (no icon font, no emoji font needed).
    static let iconSymbols = "<svg class=\"defs\" aria-hidden=\"true\"><defs>"
        + "<symbol id=\"i-folder\" viewBox=\"0 0 16 16\"><path d=\"M1.5 3.5h4.2l1.5 1.6h7.3v8.4H1.5z\" fill=\"currentColor\"/></symbol>"
        + "<symbol id=\"i-file\" viewBox=\"0 0 16 16\"><path d=\"M3.5 1.5h6l3 3v10h-9z\" fill=\"none\" stroke=\"currentColor\"/><path d=\"M9.5 1.5v3h3\" fill=\"none\" stroke=\"currentColor\"/></symbol>"
        + "<symbol id=\"i-bucket\" viewBox=\"0 0 16 16\"><ellipse cx=\"8\" cy=\"3.5\" rx=\"6\" ry=\"2\" fill=\"none\" stroke=\"currentColor\"/><path d=\"M2 3.5v9c0 1.1 2.7 2 6 2s6-.9 6-2v-9\" fill=\"none\" stroke=\"currentColor\"/></symbol>"
        + "<symbol id=\"i-up\" viewBox=\"0 0 16 16\"><path d=\"M8 13V3M3.5 7.5 8 3l4.5 4.5\" fill=\"none\" stroke=\"currentColor\" stroke-width=\"1.6\"/></symbol>"
        + "<symbol id=\"i-down\" viewBox=\"0 0 16 16\"><path d=\"M8 2v9M3.5 6.5 8 11l4.5-4.5M3 14h10\" fill=\"none\" stroke=\"currentColor\" stroke-width=\"1.6\"/></symbol>"
        + "<symbol id=\"i-raw\" viewBox=\"0 0 16 16\"><path d=\"M9 2.5h4.5V7M13.5 2.5 7.5 8.5M11.5 9.5v4h-9v-9h4\" fill=\"none\" stroke=\"currentColor\" stroke-width=\"1.5\"/></symbol>"
        + "<symbol id=\"i-data\" viewBox=\"0 0 16 16\"><path d=\"M2 2h5v5H2zM9 2h5v5H9zM2 9h5v5H2zM9 9h5v5H9z\" fill=\"currentColor\"/></symbol>"
        + "</defs></svg>"

    static func icon(_ name: String) -> String {
        "<svg class=\"icon i-\(name)\" aria-hidden=\"true\"><use href=\"#i-\(name)\"/></svg>"
    }

    /// Binary units with one decimal, as the original showed them (`1.5 KiB`).
    public static func humanSize(_ n: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var v = Double(n), i = 0
        while v >= 1024 && i < units.count - 1 { v /= 1024; i += 1 }
        var tenths = Int((v * 10).rounded())
        if tenths >= 10240 && i < units.count - 1 { tenths = 10; i += 1 }  // 1023.96 KiB → 1.0 MiB
        return "\(tenths / 10).\(tenths % 10) \(units[i])"
    }

    /// `1234567` → `1,234,567` (exact sizes in tooltips).
    static func grouped(_ n: UInt64) -> String {
        var digits = Array(String(n))
        var out: [Character] = []
        while digits.count > 3 {
            out = [","] + digits.suffix(3) + out
            digits.removeLast(3)
        }
        return String(digits + out)
    }

    /// `2025-11-25 10:00` (UTC), for the date column.
    static func shortDate(_ t: Int64) -> String {
        let iso = HTTPDate.iso8601(t)
        return String(iso.prefix(10)) + " " + String(iso.dropFirst(11).prefix(5))
    }

    /// Percent-encodes one path segment or query value (everything but RFC 3986 unreserved).
    public static func urlSegment<S: StringProtocol>(_ s: S) -> String {
        URLEncoding.uriEncode(String(s))
    }

    /// Percent-encodes each segment of a key, keeping the `/` between them.
    public static func urlPath(_ key: String) -> String {
        URLEncoding.uriEncode(key, encodeSlash: false)
    }
}

/// Escapes text for HTML element content and quoted attribute values. Control characters
/// (never valid in HTML text) become U+FFFD.
public func htmlEscape(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.utf8.count)
    for ch in s.unicodeScalars {
        switch ch {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        case _ where (ch.value < 0x20 && ch != "\t" && ch != "\n" && ch != "\r") || ch.value == 0x7F:
            out += "\u{FFFD}"
        default: out.unicodeScalars.append(ch)
        }
    }
    return out
}
