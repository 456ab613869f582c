public import S3Protocol

/// What `x2s3 presign` prints: a SigV4 presigned GET URL for one object, or a capability link
/// for a prefix, both under the config's `base_url` (path-style, which every base URL serves).
public enum Presigner {
    /// The region presigned URLs are signed for (any region verifies; SigV4Verifier).
    public static let region = "us-east-1"

    /// A presigned URL for `bucket/key`, valid `expires` seconds from `now`.
    public static func objectURL(base: BaseURL, bucket: String, key: String, credential: Credential,
                                 now: Int64, expires: Int64) -> String {
        let amzDate = SigV4.amzDate(now)
        let scope = Scope(day: String(amzDate.prefix(8)), region: region, service: "s3", terminal: "aws4_request")
        let path = base.path + bucket + "/" + key
        let query: [(String, String)] = [
            ("X-Amz-Algorithm", SigV4Verifier.algorithm), ("X-Amz-Credential", "\(credential.accessKey)/\(scope.text)"),
            ("X-Amz-Date", amzDate), ("X-Amz-Expires", String(expires)), ("X-Amz-SignedHeaders", "host"),
        ]
        let canonicalQuery = SigV4.canonicalQuery(query)
        let canonicalRequest = ["GET", SigV4.encodePath(path), canonicalQuery, "host:\(hostHeader(base))\n", "host",
                                SigV4Verifier.unsignedPayload].joined(separator: "\n")
        let stringToSign = [SigV4Verifier.algorithm, amzDate, scope.text, SHA256.hex(SHA256.hash(Array(canonicalRequest.utf8)))]
            .joined(separator: "\n")
        let signingKey = SigV4Verifier.deriveKey(secret: credential.secretKey, scope: scope)
        let signature = SHA256.hex(HMACSHA256.authenticate(key: signingKey, message: Array(stringToSign.utf8)))
        return plainURL(base: base, bucket: bucket, key: key) + "?" + canonicalQuery + "&X-Amz-Signature=" + signature
    }

    /// A capability link for every key under `prefix` of `bucket` until `now + expires`.
    public static func capabilityURL(base: BaseURL, bucket: String, prefix: String, credential: Credential,
                                     now: Int64, expires: Int64) -> String {
        let grant = Capability(bucket: bucket, prefix: prefix, expires: now + expires, accessKey: credential.accessKey)
        return origin(base) + base.path + Capability.pathPrefix + grant.token(secret: credential.secretKey) + "/"
            + URLEncoding.uriEncode(bucket) + "/" + URLEncoding.uriEncode(prefix, encodeSlash: false)
    }

    /// The unsigned URL of `bucket/key`: what a public bucket's object is read at.
    public static func plainURL(base: BaseURL, bucket: String, key: String) -> String {
        origin(base) + SigV4.encodePath(base.path + bucket + "/" + key)
    }

    /// The Host header a client sends for the base URL (the port only when it is given).
    static func hostHeader(_ base: BaseURL) -> String { base.host + (base.port.map { ":\($0)" } ?? "") }

    static func origin(_ base: BaseURL) -> String { "\(base.scheme)://\(hostHeader(base))" }

    /// `600`, `90s`, `30m`, `12h`, `7d` → seconds; at most 7 days (S3's limit for presigned URLs).
    public static func parseExpires(_ text: String) -> Int64? {
        guard let last = text.last else { return nil }
        let unit: Int64
        var digits = Substring(text)
        switch last {
        case "s": unit = 1; digits = digits.dropLast()
        case "m": unit = 60; digits = digits.dropLast()
        case "h": unit = 3600; digits = digits.dropLast()
        case "d": unit = 86400; digits = digits.dropLast()
        default: unit = 1
        }
        guard !digits.isEmpty, digits.count <= 7, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int64(digits) else { return nil }
        let seconds = n * unit
        return (1...SigV4Verifier.maxExpiresSeconds).contains(seconds) ? seconds : nil
    }

    /// `s3://bucket/key` → (bucket, key).
    public static func parseS3URL(_ text: String) -> (bucket: String, key: String)? {
        guard text.hasPrefix("s3://") else { return nil }
        let rest = text.dropFirst(5)
        let bucket = rest.prefix { $0 != "/" }
        guard !bucket.isEmpty else { return nil }
        return (String(bucket), String(rest.dropFirst(bucket.count + 1)))
    }
}
