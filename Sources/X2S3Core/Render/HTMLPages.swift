/// The HTML pages for people: the bucket index and folder pages. Pure functions; every
/// interpolated text goes through `htmlEscape`, every href segment through `urlSegment`.
public enum HTMLPages {
    /// Where the page is served from, to build links that work path-style and virtual-host.
    public struct Context: Sendable {
        public var scheme: String
        public var host: String
        public var virtualHost: Bool
        /// The base URL's path (`/` unless x2s3 is mounted under a path).
        public var basePath: String
        public var baseURL: String?
    }

    static let stylesheet = """
    body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2430;background:#f7f8fa}
    header{background:#0b5f6e;color:#fff;padding:.8rem 1.5rem;display:flex;align-items:center;gap:.7rem}
    header a{color:#fff;text-decoration:none;font-weight:600}main{padding:1rem 1.5rem;max-width:72rem}
    nav.crumbs{margin:.5rem 0 1rem;font-size:1.05rem}nav.crumbs a{color:#0b5f6e}
    table{border-collapse:collapse;width:100%;background:#fff;box-shadow:0 1px 2px #0001}
    th,td{text-align:left;padding:.45rem .8rem;border-bottom:1px solid #e6e8ec}th{background:#eef1f4;font-weight:600}
    td.size,th.size{text-align:right;white-space:nowrap}td.date{white-space:nowrap;color:#5a6473}
    a{color:#0b5f6e}tr:hover td{background:#f2f7f8}.pager{margin:1rem 0;display:flex;gap:1rem}
    .muted{color:#6b7480}ul.buckets{list-style:none;padding:0}ul.buckets li{margin:.4rem 0;font-size:1.1rem}
    """

    /// The root page: the browseable buckets, linked path-style.
    public static func index(buckets: [String], context: Context) -> String {
        var s = head(title: "x2s3", context: context)
        s += "<main><h1>Buckets</h1><ul class=\"buckets\">"
        for b in buckets {
            s += "<li><a href=\"\(htmlEscape(context.basePath + urlSegment(b)))/\">\(htmlEscape(b))</a></li>"
        }
        if buckets.isEmpty { s += "<li class=\"muted\">No buckets are configured.</li>" }
        return s + "</ul></main></body></html>\n"
    }

    /// A folder page: breadcrumb, then folders, then files, then paging.
    public static func browse(bucket: String, prefix: String, page: ListPage, context: Context, previousToken: String?) -> String {
        let bucketRoot = context.virtualHost ? context.basePath : context.basePath + urlSegment(bucket) + "/"
        var s = head(title: "\(bucket)/\(prefix)", context: context)
        s += "<main><nav class=\"crumbs\"><a href=\"\(htmlEscape(context.basePath))\">buckets</a> / "
        s += "<a href=\"\(htmlEscape(bucketRoot))\">\(htmlEscape(bucket))</a> / "
        var acc = ""
        for segment in prefix.split(separator: "/", omittingEmptySubsequences: false).dropLast() {
            acc += segment + "/"
            s += "<a href=\"\(htmlEscape(bucketRoot + urlPath(acc)))\">\(htmlEscape(String(segment)))</a> / "
        }
        s += "</nav><table><thead><tr><th>Name</th><th class=\"size\">Size</th><th>Last modified</th></tr></thead><tbody>"
        for p in page.commonPrefixes {
            let name = String(p.dropFirst(prefix.count))
            s += "<tr><td>📁 <a href=\"\(htmlEscape(bucketRoot + urlPath(p)))\">\(htmlEscape(name))</a></td><td class=\"size\"></td><td></td></tr>"
        }
        for o in page.objects where o.key != prefix {
            let name = String(o.key.dropFirst(prefix.count))
            s += "<tr><td><a href=\"\(htmlEscape(bucketRoot + urlPath(o.key)))\">\(htmlEscape(name))</a></td>"
            s += "<td class=\"size\">\(humanSize(o.size))</td><td class=\"date\">\(HTTPDate.iso8601(o.lastModified.seconds).prefix(16).replacingT())</td></tr>"
        }
        if page.commonPrefixes.isEmpty && page.objects.isEmpty { s += "<tr><td colspan=\"3\" class=\"muted\">Empty folder</td></tr>" }
        s += "</tbody></table><div class=\"pager\">"
        if previousToken != nil { s += "<a href=\"javascript:history.back()\">← Previous</a>" }
        if page.isTruncated, let token = page.nextContinuationToken {
            s += "<a href=\"?continuation-token=\(htmlEscape(urlSegment(token)))\">Next →</a>"
        }
        return s + "</div></main></body></html>\n"
    }

    static func head(title: String, context: Context) -> String {
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            + "<meta name=\"robots\" content=\"noindex,follow\"><title>\(htmlEscape(title))</title>"
            + "<link rel=\"icon\" href=\"/favicon.ico\"><link rel=\"stylesheet\" href=\"/static/x2s3.css\"></head><body>"
            + "<header><img src=\"/static/logo.png\" alt=\"\" width=\"20\" height=\"20\"><a href=\"\(htmlEscape(context.baseURL ?? "/"))\">x2s3</a></header>"
    }

    /// Binary units with one decimal, as the original showed them.
    public static func humanSize(_ n: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var v = Double(n), i = 0
        while v >= 1024 && i < units.count - 1 { v /= 1024; i += 1 }
        let tenths = Int((v * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) \(units[i])"
    }

    /// Percent-encodes one path segment (everything but RFC 3986 unreserved characters).
    public static func urlSegment<S: StringProtocol>(_ s: S) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case 0x41...0x5A, 0x61...0x7A, 0x30...0x39, 0x2D, 0x2E, 0x5F, 0x7E: out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out.unicodeScalars.append("%")
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(b >> 4)]))
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(b & 15)]))
            }
        }
        return out
    }

    /// Percent-encodes each segment of a key, keeping the `/` between them.
    public static func urlPath(_ key: String) -> String {
        key.split(separator: "/", omittingEmptySubsequences: false).map { urlSegment($0) }.joined(separator: "/")
    }
}

/// Escapes text for HTML element content and quoted attribute values.
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
        default: out.unicodeScalars.append(ch)
        }
    }
    return out
}

extension Substring {
    fileprivate func replacingT() -> String { String(self.map { $0 == "T" ? " " : $0 }) }
}
