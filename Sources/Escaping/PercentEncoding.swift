/// Percent-encoding (RFC 3986 `%XX`, upper-case hex) and its inverse, written once. Callers
/// choose which bytes stay literal; the S3 variants are named in X2S3Core's `URLEncoding`.
public enum PercentEncoding {
    /// Encodes every byte of `text`'s UTF-8 that `literal` does not hold; with `spaceAsPlus`,
    /// a space becomes `+` (form encoding; `+` itself is then encoded unless literal).
    /// Returns `text` itself when nothing needs encoding (the usual case, no allocation).
    @inlinable
    public static func encode(_ text: String, keeping literal: ByteSet, spaceAsPlus: Bool = false) -> String {
        var text = text
        let clean = text.withUTF8 { bytes in !bytes.contains { !literal.contains($0) } }
        return clean ? text : encode(bytes: text.utf8, keeping: literal, spaceAsPlus: spaceAsPlus)
    }

    /// `encode(_:keeping:spaceAsPlus:)` for bytes that need not be UTF-8.
    @inlinable
    public static func encode<C: Collection<UInt8>>(bytes: C, keeping literal: ByteSet, spaceAsPlus: Bool = false) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 3)
        for b in bytes {
            if literal.contains(b) {
                out.append(b)
            } else if spaceAsPlus && b == UInt8(ascii: " ") {
                out.append(UInt8(ascii: "+"))
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(Hex.digit(b >> 4, uppercase: true))
                out.append(Hex.digit(b, uppercase: true))
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes `%XX` escapes (either case of hex) once; with `plusIsSpace`, `+` is a space
    /// (form decoding). Nil on a malformed escape or a result that is not UTF-8.
    @inlinable
    public static func decode<S: StringProtocol>(_ text: S, plusIsSpace: Bool) -> String? {
        let utf8 = text.utf8
        // Nothing to decode (nearly always): scan contiguous bytes, and keep a whole Substring's
        // storage (String(_: Substring) does; the generic String(s) copies).
        let escaped = utf8.withContiguousStorageIfAvailable { bytes in
            bytes.contains { $0 == UInt8(ascii: "%") || (plusIsSpace && $0 == UInt8(ascii: "+")) }
        } ?? utf8.contains { $0 == UInt8(ascii: "%") || (plusIsSpace && $0 == UInt8(ascii: "+")) }
        if !escaped { return (text as? Substring).map(String.init) ?? String(text) }
        // SAFETY: the buffers are lent for the decoder's call only; it copies what it keeps.
        return utf8.withContiguousStorageIfAvailable { decode(bytes: $0, plusIsSpace: plusIsSpace) }
            ?? Array(utf8).withUnsafeBufferPointer { decode(bytes: $0, plusIsSpace: plusIsSpace) }
    }

    /// `decode(_:plusIsSpace:)` of the bytes of a String (a query item as it came): no index
    /// walking, and bytes with nothing to decode become their String directly (they are UTF-8
    /// already: `String(validating:)` is generic and cost a metadata lookup per call). Nil on a
    /// malformed escape or a result that is not UTF-8.
    @inlinable
    public static func decode(bytes: UnsafeBufferPointer<UInt8>, plusIsSpace: Bool) -> String? {
        guard bytes.contains(where: { $0 == UInt8(ascii: "%") || (plusIsSpace && $0 == UInt8(ascii: "+")) }) else {
            return String(decoding: bytes, as: UTF8.self)
        }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "%") {
                guard i + 2 < bytes.count, let a = hexValue(bytes[i + 1]), let b = hexValue(bytes[i + 2]) else { return nil }
                out.append(a << 4 | b)
                i += 3
            } else {
                out.append(plusIsSpace && c == UInt8(ascii: "+") ? UInt8(ascii: " ") : c)
                i += 1
            }
        }
        return String(validating: out, as: UTF8.self)
    }

    /// Whether `decode(bytes:plusIsSpace:)` would succeed (either way of reading `+`), without
    /// building its String: for items a parser checks but does not keep.
    public static func decodes(bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0, ascii = true
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "%") {
                guard i + 2 < bytes.count, let a = hexValue(bytes[i + 1]), hexValue(bytes[i + 2]) != nil else { return false }
                if a >= 8 { ascii = false }
                i += 3
            } else {
                if c >= 0x80 { ascii = false }
                i += 1
            }
        }
        // Decoded bytes over 0x7F must still form UTF-8: rare enough to check by decoding.
        return ascii || decode(bytes: bytes, plusIsSpace: false) != nil
    }

    @usableFromInline
    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        default: return nil
        }
    }
}

/// A set of byte values, as four 64-bit masks: which bytes an encoding leaves literal.
public struct ByteSet: Sendable {
    @usableFromInline let masks: (UInt64, UInt64, UInt64, UInt64)

    /// The bytes `predicate` holds for.
    public init(_ predicate: (UInt8) -> Bool) {
        var m: [UInt64] = [0, 0, 0, 0]
        for b in 0...255 where predicate(UInt8(b)) { m[b >> 6] |= 1 << UInt64(b & 63) }
        masks = (m[0], m[1], m[2], m[3])
    }

    @inlinable
    public func contains(_ b: UInt8) -> Bool {
        let mask: UInt64
        switch b >> 6 {
        case 0: mask = masks.0
        case 1: mask = masks.1
        case 2: mask = masks.2
        default: mask = masks.3
        }
        return mask >> UInt64(b & 63) & 1 != 0
    }

    /// RFC 3986 unreserved: `A-Z a-z 0-9 - . _ ~`.
    public static let unreserved = ByteSet { isUnreserved($0) }
    /// Unreserved and `/`: a path whose segments are encoded.
    public static let unreservedAndSlash = ByteSet { isUnreserved($0) || $0 == UInt8(ascii: "/") }
    /// Every byte but `%`: text already decoded that must survive one more decoding.
    public static let allButPercent = ByteSet { $0 != UInt8(ascii: "%") }
    /// ASCII: only bytes of 0x80 and above are encoded.
    public static let ascii = ByteSet { $0 < 0x80 }

    /// RFC 3986 unreserved, as a test (the sets above are built from it).
    @inlinable
    public static func isUnreserved(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }
}
