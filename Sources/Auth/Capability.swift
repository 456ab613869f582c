public import S3Protocol

/// A capability link's token: read access to every key under one prefix of one bucket until an
/// expiry, granted by a credential. Stateless: nothing is stored server-side; the token carries
/// its expiry, the access key and the prefix's length, plus an HMAC (under the credential's
/// secret) over bucket, prefix, expiry and access key. The prefix itself is not in the token: it
/// is the first `prefixLength` bytes of the key or listing prefix the URL names, so the MAC
/// checks it without the token growing with it. Rotating the secret revokes every token.
///
/// Wire form: base64url (no padding) of `version(1) ‖ expires(8, big-endian) ‖ akLength(1) ‖
/// accessKey ‖ prefixLength(2, big-endian) ‖ mac(32)`.
public struct Capability: Sendable, Equatable {
    public var bucket: String
    public var prefix: String
    /// Seconds since the epoch after which the token is refused.
    public var expires: Int64
    public var accessKey: String

    static let version: UInt8 = 1
    static let macSize = 32
    /// What the MAC's message starts with: a token can never be mistaken for another HMAC x2s3 makes.
    static let domain = "x2s3-capability-v1"

    public init(bucket: String, prefix: String, expires: Int64, accessKey: String) {
        self.bucket = bucket
        self.prefix = prefix
        self.expires = expires
        self.accessKey = accessKey
    }

    /// The token for this grant, signed with `secret`.
    public func token(secret: String) -> String {
        var raw: [UInt8] = [Self.version]
        for shift in stride(from: 56, through: 0, by: -8) { raw.append(UInt8(truncatingIfNeeded: expires >> Int64(shift))) }
        let ak = Array(accessKey.utf8)
        raw.append(UInt8(ak.count))
        raw += ak
        let length = prefix.utf8.count
        raw += [UInt8(length >> 8), UInt8(length & 0xFF)]
        raw += mac(secret: secret)
        return Base64URL.encode(raw)
    }

    func mac(secret: String) -> [UInt8] {
        let message = [Self.domain, bucket.lowercased(), prefix, String(expires), accessKey].joined(separator: "\n")
        return HMACSHA256.authenticate(key: Array(secret.utf8), message: Array(message.utf8))
    }

    /// The grant a token carries for `bucket`, given the key (or listing prefix) the request
    /// names: checked against its MAC, its expiry and its credential's buckets. Any failure is
    /// AccessDenied, so a token reveals nothing about why it does not open a path.
    public static func verify(token: String, bucket: String, key: String, now: Int64,
                              lookup: (String) -> Credential?) throws(S3Error) -> Capability {
        guard token.utf8.count <= 400, let raw = Base64URL.decode(token), raw.count >= 1 + 8 + 1 + 2 + macSize,
              raw[0] == version else { throw .accessDenied }
        var expires: Int64 = 0
        for i in 1...8 { expires = expires << 8 | Int64(raw[i]) }
        let akLength = Int(raw[9])
        guard raw.count == 10 + akLength + 2 + macSize else { throw .accessDenied }
        let ak = String(decoding: raw[10..<(10 + akLength)], as: UTF8.self)
        let prefixLength = Int(raw[10 + akLength]) << 8 | Int(raw[11 + akLength])
        let mac = raw[(12 + akLength)...]
        let keyBytes = Array(key.utf8)
        guard prefixLength <= keyBytes.count, let credential = lookup(ak), credential.allows(bucket: bucket) else {
            throw .accessDenied
        }
        let grant = Capability(bucket: bucket, prefix: String(decoding: keyBytes[..<prefixLength], as: UTF8.self),
                               expires: expires, accessKey: ak)
        guard constantTimeEqual(grant.mac(secret: credential.secretKey), mac) else { throw .accessDenied }
        guard now <= expires else {
            throw .accessDeniedBecause("Request has expired", fields: [S3Error.Field("Expires", S3Error.isoSeconds(expires)),
                                                                     S3Error.Field("ServerTime", S3Error.isoSeconds(now))])
        }
        return grant
    }

    /// Where capability links live, below the base URL's path.
    public static let pathPrefix = "_x2s3/c/"
}
