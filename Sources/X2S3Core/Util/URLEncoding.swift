/// Percent-encoding as S3 writes and signs it. (Decoding lives with the request parser:
/// `percentDecode(_:plusIsSpace:)`.)
public enum URLEncoding {
    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    /// RFC 3986 unreserved: `A-Z a-z 0-9 - . _ ~`.
    @inline(__always) static func isUnreserved(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39)
            || b == 0x2D || b == 0x2E || b == 0x5F || b == 0x7E
    }

    /// A listing value under `encoding-type=url` (Key, Prefix, Delimiter, StartAfter, Marker,
    /// NextMarker, CommonPrefixes), the way S3 writes it: unreserved characters and `/` stay,
    /// a space becomes `+`, every other byte of the UTF-8 becomes `%XX` (so a literal `+` is
    /// `%2B`). botocore decodes with `unquote_plus`, the Java and Go SDKs with form decoding:
    /// all of them read this back exactly.
    public static func listValue(_ s: String) -> String {
        encode(s, keepSlash: true, spaceAsPlus: true)
    }

    /// SigV4 `UriEncode`: unreserved characters stay, everything else is `%XX` (upper-case hex);
    /// `/` stays only when `encodeSlash` is false (object key paths).
    public static func uriEncode(_ s: String, encodeSlash: Bool = true) -> String {
        encode(s, keepSlash: !encodeSlash, spaceAsPlus: false)
    }

    private static func encode(_ s: String, keepSlash: Bool, spaceAsPlus: Bool) -> String {
        var clean = true
        for b in s.utf8 where !(isUnreserved(b) || (keepSlash && b == 0x2F)) {
            clean = false
            break
        }
        if clean { return s }
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count * 3)
        for b in s.utf8 {
            if isUnreserved(b) || (keepSlash && b == 0x2F) {
                out.append(b)
            } else if spaceAsPlus && b == 0x20 {
                out.append(0x2B)
            } else {
                out.append(0x25)
                out.append(hexDigits[Int(b >> 4)])
                out.append(hexDigits[Int(b & 0x0F)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
