/// JSON re-indented for a preview, as escaped HTML with a class per token. Works on the
/// document's own tokens, so numbers keep their exact text (`JSON` parses them to Double).
enum JSONPretty {
    private enum State { case value, key, colon, after }

    /// The document indented by two spaces per level, or nil when it is not one JSON value.
    static func html(_ b: [UInt8]) -> String? {
        var out = ""
        out.reserveCapacity(b.count * 2)
        var stack: [UInt8] = []
        var state = State.value
        var justOpened = false
        var i = 0
        func newline(_ depth: Int) { out += "\n" + String(repeating: "  ", count: depth) }
        while true {
            while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
            guard i < b.count else { break }
            let c = b[i]
            switch state {
            case .value, .key:
                if justOpened, c == (stack.last == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                    out.unicodeScalars.append(Unicode.Scalar(c))
                    stack.removeLast()
                    i += 1
                    state = .after
                    justOpened = false
                    continue
                }
                if state == .key || stack.last == UInt8(ascii: "[") && (justOpened || out.hasSuffix(",")) { newline(stack.count) }
                justOpened = false
                if state == .key {
                    guard c == UInt8(ascii: "\""), let end = stringEnd(b, i) else { return nil }
                    out += "<span class=\"k\">" + htmlEscape(String(decoding: b[i..<end], as: UTF8.self)) + "</span>"
                    i = end
                    state = .colon
                    continue
                }
                if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") {
                    guard stack.count < 512 else { return nil }
                    out.unicodeScalars.append(Unicode.Scalar(c))
                    stack.append(c)
                    i += 1
                    justOpened = true
                    state = c == UInt8(ascii: "{") ? .key : .value
                    continue
                }
                let end: Int?, cls: String
                if c == UInt8(ascii: "\"") {
                    (end, cls) = (stringEnd(b, i), "s")
                } else if c == UInt8(ascii: "-") || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) {
                    (end, cls) = (numberEnd(b, i), "n")
                } else {
                    end = ["true", "false", "null"].lazy.compactMap { w -> Int? in
                        let u = Array(w.utf8)
                        return b.count - i >= u.count && b[i..<(i + u.count)].elementsEqual(u) ? i + u.count : nil
                    }.first
                    cls = "l"
                }
                guard let end else { return nil }
                out += "<span class=\"\(cls)\">" + htmlEscape(String(decoding: b[i..<end], as: UTF8.self)) + "</span>"
                i = end
                state = .after
            case .colon:
                guard c == UInt8(ascii: ":") else { return nil }
                out += ": "
                i += 1
                state = .value
            case .after:
                guard let open = stack.last else { return nil }  // text after the document
                if c == UInt8(ascii: ",") {
                    out += ","
                    i += 1
                    state = open == UInt8(ascii: "{") ? .key : .value
                } else if c == (open == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                    stack.removeLast()
                    newline(stack.count)
                    out.unicodeScalars.append(Unicode.Scalar(c))
                    i += 1
                } else {
                    return nil
                }
            }
        }
        return stack.isEmpty && state == .after ? out : nil
    }

    /// The index after the string starting at `i` (a `"`), or nil when it is not valid.
    static func stringEnd(_ b: [UInt8], _ start: Int) -> Int? {
        var i = start + 1
        while i < b.count {
            switch b[i] {
            case UInt8(ascii: "\""): return i + 1
            case UInt8(ascii: "\\"):
                guard i + 1 < b.count else { return nil }
                if b[i + 1] == UInt8(ascii: "u") {
                    guard i + 6 <= b.count, b[(i + 2)..<(i + 6)].allSatisfy({ isHex($0) }) else { return nil }
                    i += 6
                } else {
                    guard "\"\\/bfnrt".utf8.contains(b[i + 1]) else { return nil }
                    i += 2
                }
            case 0..<0x20: return nil
            default: i += 1
            }
        }
        return nil
    }

    /// The index after the number starting at `i` (JSON's grammar), or nil.
    static func numberEnd(_ b: [UInt8], _ start: Int) -> Int? {
        var i = start
        func digits() -> Int {
            let s = i
            while i < b.count, b[i] >= UInt8(ascii: "0"), b[i] <= UInt8(ascii: "9") { i += 1 }
            return i - s
        }
        if i < b.count, b[i] == UInt8(ascii: "-") { i += 1 }
        guard i < b.count else { return nil }
        if b[i] == UInt8(ascii: "0") { i += 1 } else if digits() == 0 { return nil }
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            guard digits() > 0 else { return nil }
        }
        if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            i += 1
            if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
            guard digits() > 0 else { return nil }
        }
        return i
    }

    static func isHex(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || (c | 0x20 >= UInt8(ascii: "a") && c | 0x20 <= UInt8(ascii: "f"))
    }
}

/// CSV (RFC 4180: quoted fields, doubled quotes, line breaks inside quotes) and TSV (tabs, no
/// quoting) split into rows, for a preview table.
enum DelimitedText {
    /// The first `maxRows` rows, and how many rows the text has in all.
    static func rows(_ b: [UInt8], separator: UInt8, maxRows: Int) -> (rows: [[String]], total: Int) {
        let quoting = separator == UInt8(ascii: ",")
        var rows: [[String]] = []
        var row: [String] = []
        var field: [UInt8] = []
        var total = 0
        var inQuotes = false
        var rowHasContent = false
        func endField() {
            if total < maxRows { row.append(String(decoding: field, as: UTF8.self)) }
            field.removeAll(keepingCapacity: true)
        }
        func endRow() {
            endField()
            if total < maxRows { rows.append(row) }
            row = []
            total += 1
            rowHasContent = false
        }
        var i = 0
        while i < b.count {
            let c = b[i]
            i += 1
            if inQuotes {
                if c == UInt8(ascii: "\"") {
                    if i < b.count, b[i] == UInt8(ascii: "\"") { field.append(c); i += 1 } else { inQuotes = false }
                } else if total < maxRows {
                    field.append(c)
                }
                continue
            }
            switch c {
            case separator: endField(); rowHasContent = true
            case UInt8(ascii: "\n"): endRow()
            case UInt8(ascii: "\r") where i < b.count && b[i] == UInt8(ascii: "\n"): break
            case UInt8(ascii: "\"") where quoting && field.isEmpty: inQuotes = true; rowHasContent = true
            default:
                if total < maxRows { field.append(c) }
                rowHasContent = true
            }
        }
        if rowHasContent || !field.isEmpty { endRow() }
        return (rows, total)
    }
}
