/// The opaque ListObjectsV2 continuation token of file listings: the resume position (the last
/// key or common prefix a page returned) bound to the listing it came from. ListBuckets' tokens
/// (the last bucket a page returned) and upstream S3 tokens are sealed the same way, each under
/// its own key.
///
/// Wire form: base64url (no padding) of `version(1) ‖ position ‖ tag(16)`, where `tag` is the
/// first 16 bytes of HMAC-SHA256 under a fixed domain-separation key over the length-prefixed
/// bucket (lower-cased: bucket names are case-insensitive here), prefix, delimiter and position.
/// The key is not a secret and need not be: a token only ever names a position, which
/// `start-after` could name too. The tag exists so a token pasted into another listing, cut
/// short, edited or invented is refused with 400 instead of silently listing something else.
/// base64url keeps `+` and `/` out of the token, so clients that forget to percent-encode it
/// in the query string still round-trip it.
public enum ContinuationToken {
    /// What a token carries; each kind has its own HMAC key, so a file target's token can never
    /// be replayed as an S3 target's (or the reverse).
    package enum Kind {
        /// A file listing's resume position.
        case filePosition
        /// An upstream S3 token, carried untouched.
        case upstream
        /// A ListBuckets resume position.
        case bucketList

        var domainKey: [UInt8] {
            switch self {
            case .filePosition: return Array("x2s3 file listing continuation token v1".utf8)
            case .upstream: return Array("x2s3 s3 upstream continuation token v1".utf8)
            case .bucketList: return Array("x2s3 ListBuckets continuation token v1".utf8)
            }
        }
    }

    private static let version: UInt8 = 1
    private static let tagSize = 16
    /// Longest token accepted: a long upstream token or a 1024-byte key plus framing, base64-expanded.
    private static let maxEncodedLength = 8192

    /// The error S3 answers for a token it did not issue for this listing.
    public static let incorrect = S3Error.invalidArgument("The continuation token provided is incorrect",
                                                          argumentName: "continuation-token")

    /// A token that resumes after `position` in the listing of `bucket` with `prefix` and `delimiter`.
    public static func make(position: [UInt8], bucket: String, prefix: String, delimiter: String?) -> String {
        seal(position, kind: .filePosition, bucket: bucket, prefix: prefix, delimiter: delimiter)
    }

    /// The position a token names, if this listing issued it; throws `incorrect` otherwise.
    public static func position(of token: String, bucket: String, prefix: String, delimiter: String?) throws(S3Error) -> [UInt8] {
        try unseal(token, kind: .filePosition, bucket: bucket, prefix: prefix, delimiter: delimiter)
    }

    /// A ListBuckets token resuming after the bucket `name`, the `index`-th (from 0) of the
    /// buckets `prefix` selects. The name decides where to resume; the index only when that
    /// bucket has left the config since (a reload).
    public static func makeBucketList(after name: String, index: Int, prefix: String) -> String {
        seal(Array("\(index)\n\(name)".utf8), kind: .bucketList, bucket: "", prefix: prefix, delimiter: nil)
    }

    /// The (index, name) a ListBuckets token names, if issued for this `prefix`; throws `incorrect` otherwise.
    public static func bucketListPosition(of token: String, prefix: String) throws(S3Error) -> (index: Int, name: String) {
        let payload = try unseal(token, kind: .bucketList, bucket: "", prefix: prefix, delimiter: nil)
        guard let newline = payload.firstIndex(of: 0x0A), let index = Int(String(decoding: payload[..<newline], as: UTF8.self)),
              index >= 0 else { throw incorrect }
        return (index, String(decoding: payload[(newline + 1)...], as: UTF8.self))
    }

    /// `payload` framed, tagged and base64url-encoded.
    package static func seal(_ payload: [UInt8], kind: Kind, bucket: String, prefix: String, delimiter: String?) -> String {
        Base64URL.encode([version] + payload + tag(payload, kind: kind, bucket: bucket, prefix: prefix, delimiter: delimiter))
    }

    /// The payload of a token this listing issued (valid UTF-8); throws `incorrect` otherwise.
    package static func unseal(_ token: String, kind: Kind, bucket: String, prefix: String, delimiter: String?) throws(S3Error) -> [UInt8] {
        guard !token.isEmpty, token.utf8.count <= maxEncodedLength,
              let raw = Base64URL.decode(token), raw.count >= 1 + tagSize, raw[0] == version
        else { throw incorrect }
        let payload = Array(raw[1..<(raw.count - tagSize)])
        let expected = tag(payload, kind: kind, bucket: bucket, prefix: prefix, delimiter: delimiter)
        var diff: UInt8 = 0
        for (a, b) in zip(raw[(raw.count - tagSize)...], expected) { diff |= a ^ b }
        guard diff == 0, String(validating: payload, as: UTF8.self) != nil else { throw incorrect }
        return payload
    }

    private static func tag(_ payload: [UInt8], kind: Kind, bucket: String, prefix: String, delimiter: String?) -> [UInt8] {
        var message: [UInt8] = []
        func field(_ bytes: [UInt8]) {
            let n = UInt32(bytes.count)
            message += [UInt8(n >> 24 & 0xFF), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)]
            message += bytes
        }
        field(Array(bucket.lowercased().utf8))
        field(Array(prefix.utf8))
        // An absent delimiter and an empty one group the same way, so they share tokens.
        field(Array((delimiter ?? "").utf8))
        field(payload)
        return Array(HMACSHA256.authenticate(key: kind.domainKey, message: message).prefix(tagSize))
    }
}

/// base64url without padding (RFC 4648 §5).
package enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    package static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i < bytes.count {
            let n = min(3, bytes.count - i)
            var v = UInt32(bytes[i]) << 16
            if n > 1 { v |= UInt32(bytes[i + 1]) << 8 }
            if n > 2 { v |= UInt32(bytes[i + 2]) }
            for j in 0...n { out.append(alphabet[Int(v >> UInt32(18 - 6 * j) & 0x3F)]) }
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// nil for characters outside the alphabet, padding, or an impossible length.
    package static func decode(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count * 3 / 4)
        var acc: UInt32 = 0
        var bits = 0
        for c in chars {
            let v: UInt32
            switch c {
            case 0x41...0x5A: v = UInt32(c - 0x41)
            case 0x61...0x7A: v = UInt32(c - 0x61 + 26)
            case 0x30...0x39: v = UInt32(c - 0x30 + 52)
            case 0x2D: v = 62
            case 0x5F: v = 63
            default: return nil
            }
            acc = (acc << 6) | v
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(acc >> UInt32(bits) & 0xFF))
            }
        }
        // Leftover bits must be zero, or two spellings would decode to the same bytes.
        guard acc & ((1 << UInt32(bits)) - 1) == 0 else { return nil }
        return out
    }
}
