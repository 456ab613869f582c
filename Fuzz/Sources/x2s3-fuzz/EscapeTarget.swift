// Fuzz target for the XML and HTML escapers and the href encoder.
@testable internal import Browser
@testable internal import S3Protocol
@testable internal import X2S3Core

/// Input: any text. Properties:
/// - xmlEscape never emits `<`, `>`, quotes, a bare `&`, or a character XML 1.0 forbids, and
///   unescaping its output gives the input minus exactly those forbidden characters;
/// - htmlEscape round-trips (HTML-forbidden controls as U+FFFD) and emits none of `<>"'` or a bare `&`;
/// - urlSegment emits only unreserved characters and `%XX`, and decodes back to the input.
func fuzzEscape(_ bytes: [UInt8]) {
    let text = String(decoding: bytes, as: UTF8.self)

    let xml = xmlEscape(text)
    checkMarkupSafe(xml, entities: ["amp", "lt", "gt", "quot", "apos", "#13"], what: "xmlEscape")
    for u in xml.unicodeScalars {
        require(xmlAllowed(u) && u != "\r", "xmlEscape emitted U+\(String(u.value, radix: 16))")
    }
    var expected = String.UnicodeScalarView()
    for u in text.unicodeScalars where xmlAllowed(u) { expected.append(u) }
    require(unescape(xml) == String(expected), "xmlEscape does not round-trip")

    let html = htmlEscape(text)
    checkMarkupSafe(html, entities: ["amp", "lt", "gt", "quot", "#39"], what: "htmlEscape")
    // Control characters HTML forbids (C0 but tab/LF/CR, and DEL) come back as U+FFFD.
    var shown = String.UnicodeScalarView()
    for u in text.unicodeScalars {
        let control = (u.value < 0x20 && u != "\t" && u != "\n" && u != "\r") || u.value == 0x7F
        shown.append(control ? "\u{FFFD}" : u)
    }
    require(unescape(html) == String(shown), "htmlEscape does not round-trip")

    let segment = HTMLPages.urlSegment(text)
    for b in segment.utf8 {
        let unreserved = (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39)
            || b == 0x2D || b == 0x2E || b == 0x5F || b == 0x7E || b == 0x25
        require(unreserved, "urlSegment emitted byte \(b)")
    }
    require(percentDecode(segment, plusIsSpace: false) == text, "urlSegment does not round-trip")
}

/// The characters XML 1.0 allows (§2.2 Char), which Swift strings can hold.
func xmlAllowed(_ u: Unicode.Scalar) -> Bool {
    switch u.value {
    case 0x9, 0xA, 0xD: return true
    case 0x20...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF: return true
    default: return false
    }
}

/// No raw markup characters; every `&` starts one of `entities` followed by `;`.
func checkMarkupSafe(_ s: String, entities: [String], what: String) {
    let scalars = Array(s.unicodeScalars)
    for (i, u) in scalars.enumerated() {
        require(u != "<" && u != ">" && u != "\"" && u != "'", "\(what) emitted a raw \(u)")
        if u == "&" {
            // Compared as scalars: a combining mark after `;` would merge with it as a Character.
            let rest = Array(scalars[(i + 1)...].prefix(6))
            require(entities.contains { rest.starts(with: Array(($0 + ";").unicodeScalars)) }, "\(what) emitted a bare &")
        }
    }
}

/// A tiny XML/HTML text unescaper: the five named entities and decimal references.
func unescape(_ s: String) -> String {
    var out = String.UnicodeScalarView()
    let scalars = Array(s.unicodeScalars)
    var i = 0
    while i < scalars.count {
        if scalars[i] == "&", let semi = scalars[i...].firstIndex(of: ";") {
            let name = String(String.UnicodeScalarView(scalars[(i + 1)..<semi]))
            let named: [String: Unicode.Scalar] = ["amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'"]
            if let u = named[name] {
                out.append(u)
            } else if name.hasPrefix("#"), let v = UInt32(name.dropFirst()), let u = Unicode.Scalar(v) {
                out.append(u)
            } else {
                fatalError("unknown entity &\(name);")
            }
            i = semi + 1
        } else {
            out.append(scalars[i])
            i += 1
        }
    }
    return String(out)
}
