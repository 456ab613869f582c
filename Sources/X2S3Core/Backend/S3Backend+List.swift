import HTTPClient

/// Listings: ListObjectsV2 upstream for both V1 and V2 clients, the target prefix applied on
/// the way up and removed on the way down, continuation tokens wrapped.
extension S3Backend {
    func listPage(_ q: ListQuery) throws(S3Error) -> ListPage {
        // encoding-type=url always: keys with characters XML 1.0 cannot carry survive the
        // upstream's document, and are decoded before the prefix is stripped.
        var query: [(String, String)] = [("list-type", "2"), ("encoding-type", "url"), ("prefix", root + q.prefix),
                                         ("max-keys", String(q.maxKeys))]
        if let d = q.delimiter, !d.isEmpty { query.append(("delimiter", d)) }
        // Entries at or before this (upstream form) are never returned, as S3 promises.
        var floor: String?
        switch q.version {
        case .v2:
            if let token = q.continuationToken {
                let upstream = try UpstreamToken.unwrap(token, bucket: bucket, prefix: q.prefix, delimiter: q.delimiter)
                query.append(("continuation-token", upstream))
            } else if let after = q.startAfter, !after.isEmpty {
                floor = root + after
            }
        case .v1:
            if let marker = q.marker, !marker.isEmpty { floor = root + marker }
        }
        if let floor { query.append(("start-after", floor)) }

        let r = try exchange(method: "GET", key: nil, query: query)
        guard r.status == 200 else { throw upstreamError(r, key: nil) }
        let body: [UInt8]
        do { body = try r.readAll(limit: Self.listingBodyLimit) } catch { throw Self.map(error) }
        let upstream = try ListObjectsV2Parser.parse(body)
        return try page(from: upstream, query: q, floor: floor)
    }

    /// Maps the upstream page to ours: entries outside the root (a misbehaving upstream)
    /// and entries not after the floor are dropped, the root is stripped, the token wrapped.
    func page(from upstream: ListObjectsV2Parser.Result, query q: ListQuery, floor: String?) throws(S3Error) -> ListPage {
        func after(_ s: String) -> Bool {
            guard let floor else { return true }
            return Array(floor.utf8).lexicographicallyPrecedes(Array(s.utf8))
        }
        var page = ListPage()
        for o in upstream.objects where o.key.hasPrefix(root) && after(o.key) {
            var listed = ListedObject(key: String(o.key.dropFirst(root.count)), size: o.size,
                                      lastModified: Timestamp(seconds: o.lastModified), etag: nil)
            if options.proxyETag, let e = o.etag, !e.isEmpty { listed.etag = e.hasPrefix("\"") ? e : "\"\(e)\"" }
            if let sc = o.storageClass, !sc.isEmpty { listed.storageClass = sc }
            page.objects.append(listed)
        }
        for p in upstream.commonPrefixes where p.hasPrefix(root) && after(p) {
            page.commonPrefixes.append(String(p.dropFirst(root.count)))
        }
        page.isTruncated = upstream.isTruncated
        guard upstream.isTruncated else { return page }
        switch q.version {
        case .v2:
            guard let next = upstream.nextContinuationToken, !next.isEmpty else {
                throw .badGateway("The upstream storage sent a truncated listing without a continuation token.")
            }
            page.nextContinuationToken = UpstreamToken.wrap(next, bucket: bucket, prefix: q.prefix, delimiter: q.delimiter)
        case .v1:
            // The last entry of the upstream page (dropped or not), in S3 order: a key or a
            // common prefix. S3 sends NextMarker only with a delimiter; without one, clients
            // resume from the last key.
            let lastKey = upstream.objects.last?.key, lastPrefix = upstream.commonPrefixes.last
            let last = [lastKey, lastPrefix].compactMap { $0 }.max { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            if q.delimiter != nil, let last, last.hasPrefix(root) { page.nextMarker = String(last.dropFirst(root.count)) }
        }
        return page
    }
}

/// The continuation tokens of S3 targets: the upstream's own token, carried untouched inside
/// ours, and bound to the listing it belongs to.
///
/// Wire form: base64url (no padding) of `version(1) ‖ upstream token ‖ tag(16)`, `tag` being
/// the first 16 bytes of HMAC-SHA256 under a fixed domain-separation key over length-prefixed
/// bucket (lower-cased), prefix, delimiter and upstream token. The key is not a secret: the
/// tag only makes a token from another listing (or a file target's), a truncated or an edited
/// one fail with 400 here instead of listing something else; the upstream still validates
/// its own token. The upstream token is never rewritten (the original's prefix-stripping of
/// tokens corrupted them).
enum UpstreamToken {
    private static let version: UInt8 = 1
    private static let tagSize = 16
    private static let maxEncodedLength = 8192
    private static let domainKey = Array("x2s3 s3 upstream continuation token v1".utf8)

    static let incorrect = S3Error.invalidArgument("The continuation token provided is incorrect", argumentName: "continuation-token")

    static func wrap(_ upstream: String, bucket: String, prefix: String, delimiter: String?) -> String {
        let token = Array(upstream.utf8)
        return base64url([version] + token + tag(token, bucket: bucket, prefix: prefix, delimiter: delimiter))
    }

    static func unwrap(_ token: String, bucket: String, prefix: String, delimiter: String?) throws(S3Error) -> String {
        guard !token.isEmpty, token.utf8.count <= maxEncodedLength, let raw = unbase64url(token),
              raw.count > 1 + tagSize, raw[0] == version
        else { throw incorrect }
        let upstream = Array(raw[1..<(raw.count - tagSize)])
        let expected = tag(upstream, bucket: bucket, prefix: prefix, delimiter: delimiter)
        var diff: UInt8 = 0
        for (a, b) in zip(raw[(raw.count - tagSize)...], expected) { diff |= a ^ b }
        guard diff == 0, let text = String(validating: upstream, as: UTF8.self) else { throw incorrect }
        return text
    }

    private static func tag(_ token: [UInt8], bucket: String, prefix: String, delimiter: String?) -> [UInt8] {
        var message: [UInt8] = []
        for field in [Array(bucket.lowercased().utf8), Array(prefix.utf8), Array((delimiter ?? "").utf8), token] {
            let n = UInt32(field.count)
            message += [UInt8(n >> 24 & 0xFF), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)] + field
        }
        return Array(HMACSHA256.authenticate(key: domainKey, message: message).prefix(tagSize))
    }

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    static func base64url(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
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

    static func unbase64url(_ text: String) -> [UInt8]? {
        var values: [UInt32] = []
        for b in text.utf8 {
            guard let i = alphabet.firstIndex(of: b) else { return nil }
            values.append(UInt32(i))
        }
        guard values.count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        var i = 0
        while i < values.count {
            let n = min(4, values.count - i)
            var v: UInt32 = 0
            for j in 0..<4 { v = v << 6 | (j < n ? values[i + j] : 0) }
            for j in 0..<(n - 1) { out.append(UInt8(v >> UInt32(16 - 8 * j) & 0xFF)) }
            // Canonical encodings only: unused low bits must be zero.
            if n < 4 && v & ((1 << UInt32(24 - 8 * (n - 1))) - 1) != 0 { return nil }
            i += 4
        }
        return out
    }
}
