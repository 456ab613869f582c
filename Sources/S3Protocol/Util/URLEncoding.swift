import Escaping

/// The percent-encodings S3 writes and signs, as variants of Escaping's one encoder.
public enum URLEncoding {
    /// A listing value under `encoding-type=url` (Key, Prefix, Delimiter, StartAfter, Marker,
    /// NextMarker, CommonPrefixes), the way S3 writes it: unreserved characters and `/` stay,
    /// a space becomes `+`, every other byte of the UTF-8 becomes `%XX` (so a literal `+` is
    /// `%2B`). botocore decodes with `unquote_plus`, the Java and Go SDKs with form decoding:
    /// all of them read this back exactly.
    public static func listValue(_ s: String) -> String {
        PercentEncoding.encode(s, keeping: .unreservedAndSlash, spaceAsPlus: true)
    }

    /// SigV4 `UriEncode`: unreserved characters stay, everything else is `%XX` (upper-case hex);
    /// `/` stays only when `encodeSlash` is false (object key paths, redirect paths, hrefs).
    public static func uriEncode(_ s: String, encodeSlash: Bool = true) -> String {
        PercentEncoding.encode(s, keeping: encodeSlash ? .unreserved : .unreservedAndSlash)
    }
}

/// Decodes `%XX` escapes once (with `plusIsSpace`, `+` is a space: form decoding); nil on a
/// malformed escape or bytes that are not UTF-8.
package func percentDecode<S: StringProtocol>(_ s: S, plusIsSpace: Bool) -> String? {
    PercentEncoding.decode(s, plusIsSpace: plusIsSpace)
}
