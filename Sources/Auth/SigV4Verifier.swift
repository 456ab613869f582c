public import S3Protocol
import Escaping
import Hashing

/// Verifies AWS SigV4 signatures on incoming GET/HEAD requests, as S3 does: the
/// `Authorization: AWS4-HMAC-SHA256 …` header form and the presigned query form. Pure: the
/// clock and the credential lookup are passed in. Keeps derived signing keys between requests
/// (one per access key, day, region and service), so a worker derives each once a day.
///
/// S3's canonical URI: the raw request path decoded once and each segment encoded once (RFC
/// 3986, upper-case hex, `/` kept), never normalised. The canonical query: every parameter but
/// `X-Amz-Signature`, decoded once and re-encoded, sorted. The region in the scope is not
/// checked: x2s3 answers for one endpoint, and clients sign with whatever region their machine
/// is configured for (or the one GetBucketLocation reports), so any region verifies — the key
/// derivation still binds the signature to the region it names.
public struct SigV4Verifier: Sendable {
    /// S3's allowed clock skew.
    public static let maxSkewSeconds: Int64 = 900
    /// S3's longest presigned URL lifetime (7 days).
    public static let maxExpiresSeconds: Int64 = 604_800
    static let algorithm = "AWS4-HMAC-SHA256"
    static let unsignedPayload = "UNSIGNED-PAYLOAD"
    /// Derived keys kept at most; a worker sees few credentials, so this only bounds abuse.
    static let maxCachedKeys = 64

    /// The parts of one request a signature covers, as they arrived.
    public struct Request: Sendable {
        public var method: String
        /// The raw path of REQUEST_URI, still percent-encoded.
        public var rawPath: String
        /// The raw query string (without `?`).
        public var rawQuery: String {
            get { String(query) }
            set { query = Substring(newValue) }
        }
        /// The same, where it lies in the request URI: a presigned query is ~400 bytes, not
        /// worth a copy per request.
        var query: Substring
        /// Request headers by lower-case name (nginx's `HTTP_*` params): at least every one
        /// the signature names, and the date, payload and authorization ones.
        public var headers: [String: String]
        /// The Host header, when `headers` does not hold it.
        public var host: String?
        public init(method: String, rawPath: String, rawQuery: Substring, headers: [String: String], host: String? = nil) {
            self.method = method
            self.rawPath = rawPath
            self.query = rawQuery
            self.headers = headers
            self.host = host
        }

        public init(method: String, rawPath: String, rawQuery: String, headers: [String: String], host: String? = nil) {
            self.init(method: method, rawPath: rawPath, rawQuery: Substring(rawQuery), headers: headers, host: host)
        }

        /// A header by its lower-case name (`host` from the field when `headers` lacks it).
        func header(_ name: String) -> String? {
            S3Request.header(name, in: headers) ?? (name == "host" ? host : nil)
        }

        /// `rawQuery`'s items, every one form-decoded (the request parser's `query` leaves the
        /// signature's out); a query that does not decode has none. For the full verifier: the
        /// fast paths read the raw bytes.
        var decodedQuery: [QueryItem] {
            (try? S3Request.parseQuery(query, keepingAmzItems: true)) ?? []
        }
    }

    struct CachedKey: Sendable {
        let secret: String
        let key: [UInt8]
        /// The same key with HMAC's padded blocks absorbed, for the accept-only paths.
        let mac: KeyedHMAC
    }

    private var keys: [String: CachedKey] = [:]
    /// The key used last, checked before `keys` (nearly every request reuses it).
    var recent: RecentKey?
    /// A struct, not a tuple: an optional tuple was copied through the runtime's generic
    /// witnesses on every request.
    struct RecentKey: Sendable {
        let accessKey: String
        let scope: Scope
        let cached: CachedKey
    }
    /// The canonical request and string to sign of the last request, kept for its capacity.
    var scratch: [UInt8] = []
    /// How many derived keys are kept (for tests).
    var cachedKeys: Int { keys.count }

    public init() {}

    /// Whether the request carries a signature at all (header or presigned query).
    public static func isSigned(_ request: Request) -> Bool {
        request.header("authorization") != nil || hasSignatureParameters(request.decodedQuery)
    }

    /// Whether the query carries presigned parameters, read by their decoded names as S3 reads
    /// its query.
    static func hasSignatureParameters(_ items: [QueryItem]) -> Bool {
        items.contains { QueryAuth.isSignatureName($0.name) }
    }

    /// The credential that signed `request`, or nil when it carries no signature (anonymous).
    /// Throws S3's error for a malformed, unknown, stale or wrong signature.
    public mutating func verify(_ request: Request, now: Int64, lookup: (String) -> Credential?) throws(S3Error) -> Credential? {
        let header = request.header("authorization")
        if let credential = acceptFast(request, header: header, now: now, lookup: lookup) {
            return credential
        }
        let items = request.decodedQuery
        return try verifyInFull(request, header: header, items: items, presigned: Self.hasSignatureParameters(items),
                                now: now, lookup: lookup)
    }

    /// The accept-only paths (FastPath.swift): the credential when the request is signed in
    /// one of the SDKs' usual forms and the signature is valid; nil otherwise. Both read the
    /// raw query only: a header signature is taken when no query item can be a signature
    /// parameter (both forms at once is the full verifier's refusal), a request without one
    /// only by a presigned query of the usual layout.
    mutating func acceptFast(_ request: Request, header: String?, now: Int64, lookup: (String) -> Credential?) -> Credential? {
        guard let header else { return acceptPresigned(request, now: now, lookup: lookup) }
        guard !Self.mayHaveSignatureParameters(rawQuery: request.query) else { return nil }
        return acceptSignedHeader(request, header: header, now: now, lookup: lookup)
    }

    /// `hasSignatureParameters` on the raw query: a plain ASCII name is compared as it came; one
    /// with an escape, `+` or non-ASCII bytes is decoded and compared as a String (which equates
    /// canonically equivalent names, the Kelvin sign's `K` with `K`); true too for a name that
    /// does not decode (the full verifier then decides).
    static func mayHaveSignatureParameters(rawQuery: Substring) -> Bool {
        guard !rawQuery.isEmpty else { return false }
        var query = rawQuery, found = false
        // SAFETY: the bytes are lent for the scan only; the ranges come from scanning them.
        query.withUTF8 { b in
            RawQuery.forEachItem(in: b) { range, _ in
                let name = UnsafeBufferPointer(rebasing: b[range])
                if name.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") || $0 >= 0x80 }) {
                    found = PercentEncoding.decode(bytes: name, plusIsSpace: true).map(QueryAuth.isSignatureName) ?? true
                } else {
                    found = QueryAuth.isSignatureName(bytes: name)
                }
                return !found
            }
        }
        return found
    }

    /// `verify` by the full parse: every form and every refusal, with S3's error for it.
    mutating func verifyInFull(_ request: Request, header: String?, items: [QueryItem], presigned: Bool, now: Int64,
                               lookup: (String) -> Credential?) throws(S3Error) -> Credential? {
        if header != nil && presigned {
            throw .invalidArgument("Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified",
                                   argumentName: "Authorization", argumentValue: header)
        }
        let parts: SignatureParts
        if let header {
            parts = try HeaderAuth.parse(header, headers: request.headers, now: now)
        } else if presigned {
            parts = try QueryAuth.parse(items, now: now)
        } else {
            return nil
        }
        guard let credential = lookup(parts.accessKey) else { throw .invalidAccessKeyId(accessKey: parts.accessKey) }

        // Canonical request then string to sign, as bytes in one reused buffer; Strings are
        // made only for the error.
        var buffer = scratch
        scratch = []
        buffer.removeAll(keepingCapacity: true)
        buffer.reserveCapacity(1024)
        Self.appendCanonicalRequest(request, parts: parts, to: &buffer)
        let canonicalEnd = buffer.count
        let digest = SHA256.hash(buffer[..<canonicalEnd])
        // SAFETY: the digest's and the signature's bytes are lent for the calls only.
        digest.withUnsafeBufferPointer {
            Self.appendStringToSign(amzDate: parts.amzDate.utf8, day: parts.scope.day.utf8, region: parts.scope.region.utf8, digest: $0,
                                    to: &buffer)
        }
        let key = signingKey(credential, scope: parts.scope)
        let mac = HMACSHA256.authenticate(key: key, message: buffer[canonicalEnd...])
        var signature = parts.signature
        guard mac.withUnsafeBufferPointer({ m in signature.withUTF8 { Self.hexEqual(m, $0) } }) else {
            throw .signatureDoesNotMatch(.init(accessKey: parts.accessKey,
                                               stringToSign: String(decoding: buffer[canonicalEnd...], as: UTF8.self),
                                               signatureProvided: parts.signature,
                                               canonicalRequest: String(decoding: buffer[..<canonicalEnd], as: UTF8.self)))
        }
        scratch = buffer
        return credential
    }

    /// The signing key for a scope, derived once and then taken from the cache (re-derived if
    /// the credential's secret changed).
    mutating func signingKey(_ credential: Credential, scope: Scope) -> [UInt8] {
        cachedKey(credential, scope: scope).key
    }

    mutating func cachedKey(_ credential: Credential, scope: Scope) -> CachedKey {
        if let recent, recent.accessKey == credential.accessKey, recent.scope == scope,
           recent.cached.secret == credential.secretKey {
            return recent.cached
        }
        let id = "\(credential.accessKey)/\(scope.day)/\(scope.region)/\(scope.service)"
        if let cached = keys[id], cached.secret == credential.secretKey {
            recent = RecentKey(accessKey: credential.accessKey, scope: scope, cached: cached)
            return cached
        }
        let key = Self.deriveKey(secret: credential.secretKey, scope: scope)
        if keys.count >= Self.maxCachedKeys { keys.removeAll() }
        let cached = CachedKey(secret: credential.secretKey, key: key, mac: KeyedHMAC(key: key))
        keys[id] = cached
        recent = RecentKey(accessKey: credential.accessKey, scope: scope, cached: cached)
        return cached
    }

    static func deriveKey(secret: String, scope: Scope) -> [UInt8] {
        var key = Array("AWS4\(secret)".utf8)
        for part in [scope.day, scope.region, scope.service, scope.terminal] {
            key = HMACSHA256.authenticate(key: key, message: Array(part.utf8))
        }
        return key
    }

    /// The canonical request S3 computes for `request`.
    static func canonicalRequest(_ request: Request, parts: SignatureParts) -> String {
        var bytes: [UInt8] = []
        appendCanonicalRequest(request, parts: parts, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The canonical request's bytes, by the same writer the fast paths use (the parsed names
    /// joined by `;` are the list as signed: none is empty or holds a `;`).
    private static func appendCanonicalRequest(_ request: Request, parts: SignatureParts, to out: inout [UInt8]) {
        var list = parts.signedHeaders.joined(separator: ";")
        // SAFETY: the list's bytes are lent for the call only.
        list.withUTF8 {
            appendCanonicalRequest(request, names: $0, separator: ";", presigned: parts.fromQuery, payload: parts.payloadHash, to: &out)
        }
    }

    /// `AWS4-HMAC-SHA256`, the request time, the scope `day/region/s3/aws4_request` (both
    /// parsers take no other service or terminal) and the canonical request's hex digest.
    static func appendStringToSign(amzDate: some Sequence<UInt8>, day: some Sequence<UInt8>, region: some Sequence<UInt8>,
                                   digest: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        out.append(contentsOf: algorithm.utf8)
        out.append(UInt8(ascii: "\n"))
        out.append(contentsOf: amzDate)
        out.append(UInt8(ascii: "\n"))
        out.append(contentsOf: day)
        out.append(UInt8(ascii: "/"))
        out.append(contentsOf: region)
        out.append(contentsOf: "/s3/aws4_request\n".utf8)
        // The digits in one append: one by one, each paid the array's checks.
        // SAFETY: the temporary holds exactly digest.count * 2 bytes, all written before the append.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: digest.count * 2) { hex in
            for (i, b) in digest.enumerated() {
                hex[2 * i] = Hex.lowerDigits[Int(b >> 4)]
                hex[2 * i + 1] = Hex.lowerDigits[Int(b & 0x0F)]
            }
            out.append(contentsOf: UnsafeBufferPointer(hex))
        }
    }

    /// Whether `signature` is `mac` in lower-case hex, in time independent of where they differ.
    static func hexEqual(_ mac: UnsafeBufferPointer<UInt8>, _ signature: UnsafeBufferPointer<UInt8>) -> Bool {
        guard signature.count == mac.count * 2 else { return false }
        var diff: UInt8 = 0
        for (i, b) in mac.enumerated() {
            diff |= signature[2 * i] ^ Hex.lowerDigits[Int(b >> 4)]
            diff |= signature[2 * i + 1] ^ Hex.lowerDigits[Int(b & 0x0F)]
        }
        return diff == 0
    }

    /// The raw path decoded once (`+` literal), then each byte but unreserved ones and `/`
    /// encoded once. A path that does not decode is signed as it came.
    static func canonicalURI(_ rawPath: String) -> String {
        guard let decoded = percentDecode(rawPath, plusIsSpace: false) else { return rawPath }
        return SigV4.encodePath(decoded)
    }

    /// Every query parameter, decoded once as the request parser decodes them (`+` is a space)
    /// and encoded once, sorted by name then value; `X-Amz-Signature` left out for presigned URLs.
    static func canonicalQuery(_ rawQuery: String, excludingSignature: Bool) -> String {
        var pairs: [(String, String)] = []
        var query = rawQuery
        // SAFETY: the query's bytes are lent for the scan only; each item is copied into a String.
        query.withUTF8 { b in
            RawQuery.forEachItem(in: b) { name, value in
                let text = { (r: Range<Int>) in Substring(String(decoding: UnsafeBufferPointer(rebasing: b[r]), as: UTF8.self)) }
                let rawName = text(name)
                if excludingSignature && rawName == "X-Amz-Signature" { return true }
                pairs.append((canonicalComponent(rawName), canonicalComponent(value.map(text) ?? "")))
                return true
            }
        }
        return SigV4.sortedQuery(pairs)
    }

    /// One query name or value decoded once and encoded once. What signers send is nearly
    /// always in that form already (unreserved bytes and upper-case escapes of reserved ones):
    /// then it is taken as it is.
    static func canonicalComponent(_ raw: Substring) -> String {
        if isCanonicallyEncoded(raw.utf8) { return String(raw) }
        return SigV4.encode(percentDecode(raw, plusIsSpace: true) ?? String(raw), keepSlash: false)
    }

    static func isCanonicallyEncoded(_ bytes: Substring.UTF8View) -> Bool {
        // SAFETY: the bytes are lent for the check only.
        bytes.withContiguousStorageIfAvailable(isCanonical) ?? Array(bytes).withUnsafeBufferPointer(isCanonical)
    }

    /// Leading and trailing whitespace removed and inner runs of spaces collapsed to one.
    static func trimHeaderValue(_ value: String) -> String {
        // Nearly always nothing to do: no tab, no leading, trailing or double space.
        let u = value.utf8
        var previousSpace = true, clean = true
        for b in u {
            if b == UInt8(ascii: "\t") || (b == UInt8(ascii: " ") && previousSpace) { clean = false; break }
            previousSpace = b == UInt8(ascii: " ")
        }
        if clean && u.last != UInt8(ascii: " ") { return value }
        return value.utf8.split(whereSeparator: { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") })
            .map { String(Substring($0)) }.joined(separator: " ")
    }
}

/// The credential scope: `<day>/<region>/<service>/aws4_request`.
struct Scope: Sendable, Equatable {
    let day: String
    let region: String
    let service: String
    let terminal: String
    var text: String { "\(day)/\(region)/\(service)/\(terminal)" }
}

/// What a signature claims, from either form.
struct SignatureParts: Sendable {
    var accessKey: String
    var scope: Scope
    /// `YYYYMMDDTHHMMSSZ`, as it goes into the string to sign.
    var amzDate: String
    /// Lower-case names in the order signed.
    var signedHeaders: [String]
    var signature: String
    var payloadHash: String
    /// Presigned: `X-Amz-Signature` is left out of the canonical query.
    var fromQuery: Bool
}
