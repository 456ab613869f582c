import HTTPClient
import S3Protocol

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
            let etag = UpstreamETag.validator(o.etag, proxy: options.proxyETag, size: o.size, lastModified: o.lastModified)
            var listed = ListedObject(key: String(o.key.dropFirst(root.count)), size: o.size,
                                      lastModified: Timestamp(seconds: o.lastModified), etag: etag)
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
/// The upstream token travels inside `ContinuationToken`'s sealed form (its own HMAC key), so
/// a token from another listing, a file target's, a truncated or an edited one fails with 400
/// here; the upstream still validates its own token. The upstream token is never rewritten
/// (the original's prefix-stripping of tokens corrupted them).
enum UpstreamToken {
    static let incorrect = ContinuationToken.incorrect

    static func wrap(_ upstream: String, bucket: String, prefix: String, delimiter: String?) -> String {
        ContinuationToken.seal(Array(upstream.utf8), kind: .upstream, bucket: bucket, prefix: prefix, delimiter: delimiter)
    }

    static func unwrap(_ token: String, bucket: String, prefix: String, delimiter: String?) throws(S3Error) -> String {
        String(decoding: try ContinuationToken.unseal(token, kind: .upstream, bucket: bucket, prefix: prefix, delimiter: delimiter), as: UTF8.self)
    }
}
