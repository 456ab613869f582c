import S3Protocol

/// A safe subset of Markdown rendered to HTML for previews: headings, paragraphs, lists,
/// block quotes, fenced code, rules, and inline code, emphasis, links and images. All text is
/// escaped; raw HTML in the document is shown as text, never passed through; links keep only
/// relative, `http(s):` and `mailto:` targets; images from other sites become links (pages
/// load nothing from elsewhere).
enum Markdown {
    static func html(_ text: String) -> String {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> Substring in
            line.last == "\r" ? line.dropLast() : line
        }
        return blocks(lines[...], depth: 0)
    }

    private static func blocks(_ lines: ArraySlice<Substring>, depth: Int) -> String {
        var out = ""
        var i = lines.startIndex
        var paragraph: [Substring] = []
        func flush() {
            if !paragraph.isEmpty { out += "<p>" + inline(paragraph.joined(separator: "\n"), depth: 0) + "</p>\n" }
            paragraph = []
        }
        while i < lines.endIndex {
            let line = lines[i]
            let trimmed = line.drop { $0 == " " }
            let indent = line.count - trimmed.count
            if trimmed.isEmpty { flush(); i += 1; continue }
            if indent < 4, let fence = fence(trimmed) {
                flush()
                var code: [Substring] = []
                i += 1
                while i < lines.endIndex, !lines[i].drop(while: { $0 == " " }).hasPrefix(fence) {
                    code.append(lines[i]); i += 1
                }
                i += 1
                out += "<pre><code>" + htmlEscape(code.joined(separator: "\n")) + "</code></pre>\n"
                continue
            }
            if indent < 4, let (level, title) = heading(trimmed) {
                flush()
                out += "<h\(level)>" + inline(title, depth: 0) + "</h\(level)>\n"
                i += 1; continue
            }
            if indent < 4, isRule(trimmed) {
                flush(); out += "<hr>\n"; i += 1; continue
            }
            if indent < 4, trimmed.hasPrefix(">") {
                flush()
                var quoted: [Substring] = []
                while i < lines.endIndex, lines[i].drop(while: { $0 == " " }).hasPrefix(">") {
                    var q = lines[i].drop { $0 == " " }.dropFirst()
                    if q.first == " " { q = q.dropFirst() }
                    quoted.append(q); i += 1
                }
                out += "<blockquote>\n" + (depth < 8 ? blocks(quoted[...], depth: depth + 1) : htmlEscape(quoted.joined(separator: "\n")))
                out += "</blockquote>\n"
                continue
            }
            if listItem(trimmed) != nil {
                flush()
                let ordered = listItem(trimmed)!.ordered
                var items: [[Substring]] = []
                while i < lines.endIndex {
                    let l = lines[i].drop { $0 == " " }
                    if let item = listItem(l), item.ordered == ordered {
                        items.append([item.text])
                    } else if !l.isEmpty, !items.isEmpty, lines[i].count - l.count >= 2 || listItem(l) == nil,
                              fence(l) == nil, heading(l) == nil {
                        items[items.count - 1].append(l)  // a continuation line
                    } else {
                        break
                    }
                    i += 1
                }
                let tag = ordered ? "ol" : "ul"
                out += "<\(tag)>\n" + items.map { "<li>" + inline($0.joined(separator: "\n"), depth: 0) + "</li>\n" }.joined() + "</\(tag)>\n"
                continue
            }
            paragraph.append(trimmed)
            i += 1
        }
        flush()
        return out
    }

    private static func fence(_ s: Substring) -> String? {
        if s.hasPrefix("```") { return "```" }
        if s.hasPrefix("~~~") { return "~~~" }
        return nil
    }

    private static func heading(_ s: Substring) -> (Int, Substring)? {
        let hashes = s.prefix { $0 == "#" }.count
        guard (1...6).contains(hashes) else { return nil }
        let rest = s.dropFirst(hashes)
        guard rest.isEmpty || rest.first == " " || rest.first == "\t" else { return nil }
        var title = rest.drop { $0 == " " || $0 == "\t" }
        while title.last == "#" || title.last == " " { title = title.dropLast() }
        return (hashes, title)
    }

    private static func isRule(_ s: Substring) -> Bool {
        let marks = s.filter { $0 != " " }
        guard let c = marks.first, c == "-" || c == "*" || c == "_" else { return false }
        return marks.count >= 3 && marks.allSatisfy { $0 == c }
    }

    private static func listItem(_ s: Substring) -> (ordered: Bool, text: Substring)? {
        if let c = s.first, c == "-" || c == "*" || c == "+", s.dropFirst().first == " " {
            return (false, s.dropFirst(2))
        }
        let digits = s.prefix { $0.isASCII && $0.isNumber }
        guard (1...9).contains(digits.count) else { return nil }
        let rest = s.dropFirst(digits.count)
        guard let d = rest.first, d == "." || d == ")", rest.dropFirst().first == " " else { return nil }
        return (true, rest.dropFirst(2))
    }

    /// Inline markup over already split text; everything that is not markup is escaped.
    static func inline<S: StringProtocol>(_ s: S, depth: Int) -> String {
        let chars = Array(s)
        var out = ""
        var i = 0
        // Closers are looked for within a window, so a document full of unmatched markers
        // costs linear time, not quadratic.
        func find(_ needle: [Character], from: Int) -> Int? {
            var j = from
            let last = min(chars.count, from + window) - needle.count
            while j <= last {
                if chars[j..<(j + needle.count)].elementsEqual(needle) { return j }
                j += 1
            }
            return nil
        }
        while i < chars.count {
            let c = chars[i]
            if c == "\\", i + 1 < chars.count, chars[i + 1].isASCII, chars[i + 1].isPunctuation || chars[i + 1].isSymbol {
                out += htmlEscape(String(chars[i + 1])); i += 2; continue
            }
            if c == "`" {
                let run = chars[i...].prefix { $0 == "`" }.count
                if let end = find(Array(repeating: "`", count: run), from: i + run) {
                    out += "<code>" + htmlEscape(String(chars[(i + run)..<end]).trimmingSpaces) + "</code>"
                    i = end + run; continue
                }
                out += String(repeating: "`", count: run); i += run; continue
            }
            let image = c == "!" && i + 1 < chars.count && chars[i + 1] == "["
            if (c == "[" || image), depth < 4, let (text, url, end) = link(chars, at: image ? i + 1 : i) {
                let target = safeURL(url)
                if image, let target, !isAbsolute(target) {
                    out += "<img src=\"\(htmlEscape(target))\" alt=\"\(htmlEscape(text))\">"
                } else if let target {
                    let external = isAbsolute(target) ? " rel=\"nofollow noopener\"" : ""
                    out += "<a href=\"\(htmlEscape(target))\"\(external)>" + inline(text, depth: depth + 1) + "</a>"
                } else {
                    out += inline(text, depth: depth + 1)
                }
                i = end; continue
            }
            if c == "*" || c == "_", depth < 4 {
                let strong = i + 1 < chars.count && chars[i + 1] == c
                let marker: [Character] = strong ? [c, c] : [c]
                let start = i + marker.count
                if start < chars.count, chars[start] != " ", let end = find(marker, from: start + 1), chars[end - 1] != " " {
                    let tag = strong ? "strong" : "em"
                    out += "<\(tag)>" + inline(String(chars[start..<end]), depth: depth + 1) + "</\(tag)>"
                    i = end + marker.count; continue
                }
            }
            out += htmlEscape(String(c))
            i += 1
        }
        return out
    }

    /// How far inline markup looks for its closing delimiter.
    static let window = 2000

    /// `[text](url)` starting at `at` (the `[`): the text, the URL and the index after `)`.
    private static func link(_ chars: [Character], at: Int) -> (String, String, Int)? {
        var j = at + 1, nesting = 0
        let limit = min(chars.count, at + window)
        while j < limit {
            if chars[j] == "[" { nesting += 1 } else if chars[j] == "]" {
                if nesting == 0 { break }
                nesting -= 1
            }
            j += 1
        }
        guard j + 1 < limit, chars[j + 1] == "(", let close = chars[(j + 2)..<limit].firstIndex(of: ")") else { return nil }
        var url = String(chars[(j + 2)..<close]).trimmingSpaces
        if let space = url.firstIndex(of: " ") { url = String(url[..<space]) }  // drop a "title"
        if url.hasPrefix("<"), url.hasSuffix(">") { url = String(url.dropFirst().dropLast()) }
        return (String(chars[(at + 1)..<j]), url, close + 1)
    }

    /// The URL if it is safe in an href: relative, or `http:`, `https:`, `mailto:`;
    /// characters outside URLs are percent-encoded. Nil for `javascript:` and the like.
    static func safeURL(_ url: String) -> String? {
        guard !url.isEmpty else { return nil }
        if let colon = url.firstIndex(of: ":"), !url[..<colon].contains(where: { $0 == "/" || $0 == "?" || $0 == "#" }) {
            guard ["http", "https", "mailto"].contains(url[..<colon].lowercased()) else { return nil }
        }
        let hex = Array("0123456789ABCDEF".utf8)
        var out = [UInt8]()
        for b in url.utf8 {
            if b > 0x20 && b < 0x7F && b != UInt8(ascii: "\"") && b != UInt8(ascii: "<") && b != UInt8(ascii: ">")
                && b != UInt8(ascii: "\\") && b != UInt8(ascii: "`") {
                out.append(b)
            } else {
                out += [UInt8(ascii: "%"), hex[Int(b >> 4)], hex[Int(b & 15)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func isAbsolute(_ url: String) -> Bool {
        let l = url.lowercased()
        return l.hasPrefix("http:") || l.hasPrefix("https:") || l.hasPrefix("mailto:") || l.hasPrefix("//")
    }
}
