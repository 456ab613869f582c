/// RFC 9110 §13.2.2 evaluation of conditional request headers against an object's
/// validators. Pure; evaluated before the range, as the RFC and S3 require.
public enum Preconditions {
    /// What the conditionals decided.
    public enum Outcome: Equatable, Sendable {
        /// Serve the object; `honourRange` is false when If-Range did not match.
        case proceed(honourRange: Bool)
        case notModified
        case failed(condition: String)
    }

    public static func evaluate(headers: [String: String], etag: String?, lastModified: Int64) -> Outcome {
        // Most requests carry no conditional header (all are `if-…`): a glance at the one or two
        // headers present instead of five hashed lookups.
        guard headers.keys.contains(where: { $0.utf8.first == UInt8(ascii: "i") }) else { return .proceed(honourRange: true) }
        // 1. If-Match, else 2. If-Unmodified-Since
        if let ifMatch = headers["if-match"] {
            if !matches(ifMatch, etag: etag, weak: false) { return .failed(condition: "If-Match") }
        } else if let ius = headers["if-unmodified-since"], let date = HTTPDate.parse(ius) {
            if lastModified > date { return .failed(condition: "If-Unmodified-Since") }
        }
        // 3. If-None-Match, else 4. If-Modified-Since (GET/HEAD only, which is all we serve)
        if let inm = headers["if-none-match"] {
            if matches(inm, etag: etag, weak: true) { return .notModified }
        } else if let ims = headers["if-modified-since"], let date = HTTPDate.parse(ims) {
            if lastModified <= date { return .notModified }
        }
        // 5. If-Range: only meaningful with a Range header.
        if headers["range"] != nil, let ifRange = headers["if-range"] {
            let v = ifRange.trimmingSpaces
            if v.hasPrefix("\"") || v.hasPrefix("W/") {
                return .proceed(honourRange: etag.map { !v.hasPrefix("W/") && v == $0 && !$0.hasPrefix("W/") } ?? false)
            }
            guard let date = HTTPDate.parse(v) else { return .proceed(honourRange: false) }
            return .proceed(honourRange: date == lastModified)
        }
        return .proceed(honourRange: true)
    }

    /// Whether a list of entity tags (or `*`) matches. Weak comparison ignores `W/`.
    static func matches(_ header: String, etag: String?, weak: Bool) -> Bool {
        guard let etag else { return false }
        let list = header.trimmingSpaces
        if list == "*" { return true }
        let mine = weak ? strip(etag) : etag
        for raw in splitTags(list) {
            let tag = raw.trimmingSpaces
            if weak {
                if strip(tag) == mine { return true }
            } else if !tag.hasPrefix("W/") && !etag.hasPrefix("W/") && tag == etag {
                return true
            }
        }
        return false
    }

    private static func strip(_ tag: String) -> String { tag.hasPrefix("W/") ? String(tag.dropFirst(2)) : tag }

    /// Splits `"a", W/"b,c"` on commas outside quotes. Unquoted tags (sent by some clients)
    /// are accepted and quoted, since S3 accepts them too.
    private static func splitTags(_ s: String) -> [String] {
        var out: [String] = [], cur = "", quoted = false
        for ch in s {
            if ch == "\"" { quoted.toggle() }
            if ch == "," && !quoted { out.append(cur); cur = "" } else { cur.append(ch) }
        }
        out.append(cur)
        return out.map { t in
            let t = t.trimmingSpaces
            return t.hasPrefix("\"") || t.hasPrefix("W/") || t == "*" ? t : "\"\(t)\""
        }
    }
}

extension String {
    package var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
