/// AWS Signature Version 4 for header-signed requests without a body, as S3 uses it. Pure:
/// credentials and the clock are passed in, so the AWS test-suite vectors and botocore's
/// output can be checked byte for byte.
///
/// S3 flavour: the path is encoded once and never normalised (`//` and `.` are key bytes),
/// unlike other services, which is why the suite's path-normalisation vectors do not apply.
/// The URL actually sent must use the same encoding (`encodePath`, `canonicalQuery`), or
/// the upstream computes a different canonical request.
public struct SigV4: Sendable {
    /// An access key pair, read from the target's key files.
    public struct Credentials: Sendable, Equatable {
        public var accessKey: String
        public var secretKey: String
        /// STS session token, sent as (and signed in) `x-amz-security-token`.
        public var sessionToken: String?

        public init(accessKey: String, secretKey: String, sessionToken: String? = nil) {
            self.accessKey = accessKey
            self.secretKey = secretKey
            self.sessionToken = sessionToken
        }
    }

    /// A signed request's headers plus the intermediate strings (for tests and debugging:
    /// a wrong signature is almost always a wrong canonical request).
    public struct Signed: Sendable {
        /// Headers to send, `Authorization` last.
        public var headers: [(String, String)]
        public var canonicalRequest: String
        public var stringToSign: String
        public var authorization: String
    }

    public var credentials: Credentials
    public var region: String
    public var service: String

    public init(credentials: Credentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// Hex SHA-256 of the empty payload (every request here is bodiless).
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// Signs one request.
    /// - Parameters:
    ///   - path: the decoded path (`/bucket/a b/ሴ`); encoded here with `encodePath`.
    ///   - query: decoded name/value pairs; encoded and sorted here.
    ///   - date: seconds since the epoch.
    ///   - payloadHeader: send and sign `x-amz-content-sha256` (S3 requires it; the generic
    ///     test suite does not use it).
    ///   - extraHeaders: further headers to sign and send.
    public func sign(method: String, host: String, path: String, query: [(String, String)], date: Int64,
                     payloadHash: String = SigV4.emptyPayloadHash, payloadHeader: Bool = true,
                     extraHeaders: [(String, String)] = []) -> Signed {
        let amzDate = Self.amzDate(date)
        let day = String(amzDate.prefix(8))
        var headers: [(String, String)] = [("Host", host)]
        if payloadHeader { headers.append(("x-amz-content-sha256", payloadHash)) }
        headers.append(("x-amz-date", amzDate))
        if let token = credentials.sessionToken { headers.append(("x-amz-security-token", token)) }
        headers += extraHeaders

        let (canonicalHeaders, signedHeaders) = Self.canonicalHeaders(headers)
        let canonicalRequest = [method, Self.encodePath(path), Self.canonicalQuery(query), canonicalHeaders,
                                signedHeaders, payloadHash].joined(separator: "\n")
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, Self.hex(SHA256.hash(Array(canonicalRequest.utf8)))]
            .joined(separator: "\n")
        var key = Array("AWS4\(credentials.secretKey)".utf8)
        for part in [day, region, service, "aws4_request"] { key = HMACSHA256.authenticate(key: key, message: Array(part.utf8)) }
        let signature = Self.hex(HMACSHA256.authenticate(key: key, message: Array(stringToSign.utf8)))
        let authorization = "AWS4-HMAC-SHA256 Credential=\(credentials.accessKey)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
        headers.append(("Authorization", authorization))
        return Signed(headers: headers, canonicalRequest: canonicalRequest, stringToSign: stringToSign, authorization: authorization)
    }

    /// `CanonicalHeaders\n` and `SignedHeaders`: lower-case names sorted, values trimmed with
    /// inner runs of spaces collapsed, repeated names joined with `,` in arrival order.
    static func canonicalHeaders(_ headers: [(String, String)]) -> (String, String) {
        var merged: [(String, String)] = []
        for (name, value) in headers {
            let n = name.lowercased()
            let v = value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            if let i = merged.firstIndex(where: { $0.0 == n }) { merged[i].1 += "," + v } else { merged.append((n, v)) }
        }
        merged.sort { Array($0.0.utf8).lexicographicallyPrecedes(Array($1.0.utf8)) }
        let text = merged.map { "\($0.0):\($0.1)\n" }.joined()
        return (text, merged.map(\.0).joined(separator: ";"))
    }

    /// The canonical (and wire) query: each name and value RFC 3986-encoded (`/` too), pairs
    /// sorted by encoded name then value, `name=` for an empty value.
    public static func canonicalQuery(_ query: [(String, String)]) -> String {
        sortedQuery(query.map { (encode($0.0, keepSlash: false), encode($0.1, keepSlash: false)) })
    }

    /// Already-encoded pairs sorted by name then value (byte order) and joined.
    package static func sortedQuery(_ encoded: [(String, String)]) -> String {
        encoded.sorted { a, b in
            a.0 != b.0 ? a.0.utf8.lexicographicallyPrecedes(b.0.utf8) : a.1.utf8.lexicographicallyPrecedes(b.1.utf8)
        }
        .map { "\($0.0)=\($0.1)" }
        .joined(separator: "&")
    }

    /// The canonical (and wire) path: RFC 3986 encoding of each byte except unreserved ones
    /// and `/`; empty means `/`.
    public static func encodePath(_ path: String) -> String {
        path.isEmpty ? "/" : encode(path, keepSlash: true)
    }

    /// RFC 3986 percent-encoding with upper-case hex: only `A-Z a-z 0-9 - . _ ~` (and `/`
    /// with `keepSlash`) stay literal.
    public static func encode(_ text: String, keepSlash: Bool) -> String {
        URLEncoding.uriEncode(text, encodeSlash: !keepSlash)
    }

    /// `YYYYMMDDTHHMMSSZ` in UTC.
    public static func amzDate(_ t: Int64) -> String {
        let p = HTTPDate.parts(t)
        func pad(_ n: Int, _ w: Int) -> String {
            let s = String(n)
            return String(repeating: "0", count: max(0, w - s.count)) + s
        }
        return "\(pad(p.year, 4))\(pad(p.month, 2))\(pad(p.day, 2))T\(pad(p.hour, 2))\(pad(p.minute, 2))\(pad(p.second, 2))Z"
    }

    static func hex(_ bytes: [UInt8]) -> String { SHA256.hex(bytes) }
}
