import Browser
import S3Protocol
import Storage

/// The route handlers: each turns a route into a `Response` or throws an `S3Error`.
extension Dispatcher {
    mutating func run(_ routed: RoutedRequest, _ request: S3Request, params: [String: String], requestID: String) -> Response {
        let isHead = request.method == "HEAD"
        do {
            return try respond(routed, request, params: params)
        } catch {
            var e = error
            // Key-only buckets: a miss must not tell an outsider whether a key exists.
            if case .noSuchKey = e, let target = routed.route.target, !target.browseable { e = .accessDenied }
            return errorResponse(e, resource: routed.resource, requestID: requestID, isHead: isHead,
                                 page: errorPage(request, routed))
        }
    }

    private mutating func respond(_ routed: RoutedRequest, _ request: S3Request, params: [String: String]) throws(S3Error) -> Response {
        switch routed.route {
        case .error(let e):
            throw e
        case .health:
            return health(params)
        case .metrics:
            return try metrics(params)
        case .robots:
            return Response(status: 200, contentType: "text/plain; charset=utf-8", body: Array("User-agent: *\nDisallow: /".utf8))
        case .asset(let name):
            guard let asset = Assets.named(name) else { throw .noSuchKey(key: name) }
            var r = Response(status: 200, contentType: asset.contentType, body: asset.bytes)
            r.head.add("Cache-Control", "public, max-age=86400")
            return r
        case .preflight:
            return try preflight(request)
        case .listBuckets(let html):
            return try listBuckets(html: html, request: request, routed: routed)
        case .listObjects(let target, let bucket, let query):
            let page = try backend(for: target).list(query)
            return Response(status: 200, contentType: "application/xml", body: ListXML.render(bucket: bucket, query: query, page: page))
        case .browse(let target, let bucket, let prefix):
            return try browse(target: target, bucket: bucket, prefix: prefix, request: request, routed: routed)
        case .acl(let target):
            guard target.browseable else { throw .accessDenied }
            return Response(status: 200, contentType: "application/xml",
                            body: Array((target.isPrivate ? S3XML.privateACL : S3XML.publicReadACL).utf8))
        case .location(let target):
            guard target.browseable else { throw .accessDenied }
            return Response(status: 200, contentType: "application/xml", body: Array(S3XML.location(region: target.region).utf8))
        case .object(let target, _, let key):
            return try object(target: target, key: key, request: request)
        case .preview(let target, let bucket, let key):
            return try preview(target: target, bucket: bucket, key: key, request: request, routed: routed)
        }
    }

    /// GetObject/HeadObject: conditionals first (RFC 9110 order), then the range.
    private mutating func object(target: Target, key: String, request: S3Request) throws(S3Error) -> Response {
        // No listing shows such a key (FileLister), and S3 could not store one.
        guard key.utf8.count <= S3Request.maxKeyBytes else { throw .keyTooLong }
        let overrides = try ResponseOverrides(query: request.query)
        let backend = try backend(for: target)
        let rangeRequest = ByteRangeRequest(header: request.header("range"))
        let info: ObjectInfo
        var body: (any ObjectBody)?
        if request.method == "HEAD" {
            info = try backend.head(key)
        } else {
            let opened = try backend.open(key, range: rangeRequest)
            info = opened.info
            body = opened
        }
        switch Preconditions.evaluate(headers: request.headers, etag: info.etag, lastModified: info.lastModified.seconds) {
        case .failed(let condition):
            throw .preconditionFailed(condition: condition)
        case .notModified:
            return Response(head: ObjectHeaders.notModified(key: key, info: info, overrides: overrides), body: .none)
        case .proceed(let honourRange):
            var range: Range<UInt64>?
            if honourRange, let rangeRequest {
                guard let r = rangeRequest.resolve(size: info.size) else { throw .invalidRange(size: info.size, range: request.header("range") ?? "") }
                range = r
            }
            let head = ObjectHeaders.forObject(key: key, info: info, range: range, overrides: overrides)
            let wanted = range ?? 0..<info.size
            if var body {
                // If-Range failed but a remote backend fetched only the range: fetch it whole.
                if !honourRange, rangeRequest != nil, body.available != 0..<info.size {
                    body = try backend.open(key, range: nil)
                    guard body.info.size == info.size else { throw .badGateway("The object changed while it was read.") }
                }
                // A remote body may hold only what the upstream sent; never promise more.
                guard body.available.lowerBound <= wanted.lowerBound, body.available.upperBound >= wanted.upperBound else {
                    throw .badGateway("The upstream returned a different range than requested.")
                }
                let delivery = Delivery.choose(body: body, request: request, range: range, wanted: wanted)
                if case .offload(let redirect) = delivery {
                    return Response(head: Offload.head(head, redirect: redirect, range: range), body: .none)
                }
                return Response(head: head, body: .object(body, wanted, delivery))
            }
            return Response(head: head, body: .none)
        }
    }

    private func preflight(_ request: S3Request) throws(S3Error) -> Response {
        let method = (request.header("access-control-request-method") ?? "").trimmingSpaces.uppercased()
        guard method == "GET" || method == "HEAD" else {
            throw .corsForbidden
        }
        var r = Response(status: 204)
        r.head.add("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
        if let h = request.header("access-control-request-headers"), !h.isEmpty {
            r.head.add("Access-Control-Allow-Headers", h)
        }
        // Browsers cap this (Chromium: 2 h); long enough that chunk bursts skip preflights.
        r.head.add("Access-Control-Max-Age", "7200")
        r.head.add("Vary", "Access-Control-Request-Headers")
        return r
    }

    private mutating func listBuckets(html: Bool, request: S3Request, routed: RoutedRequest) throws(S3Error) -> Response {
        if html {
            let page = HTMLPages.index(targets: config.targets.filter(mayList), context: pageContext(request, routed))
            return Response(status: 200, contentType: "text/html; charset=utf-8", body: Array(page.utf8))
        }
        let query = try ListBucketsQuery(query: request.query)
        let targets = config.targets.filter(mayList)
        let (indices, next) = try query.page(of: targets.map(\.name))
        var buckets: [(name: String, created: Int64)] = []
        for t in indices.map({ targets[$0] }) {
            // 2000-01-01 when the backend has no date of its own (upstream buckets) or cannot open.
            buckets.append((t.name, (try? backend(for: t))?.creationDate ?? 946_684_800))
        }
        return Response(status: 200, contentType: "application/xml",
                        body: Array(S3XML.listBuckets(buckets, continuationToken: next, prefix: query.prefix).utf8))
    }

    /// The backend of a target, opened on first use and kept for the worker's life.
    mutating func backend(for target: Target) throws(S3Error) -> any StorageBackend {
        let name = target.name.lowercased()
        if let b = backends[name] { return b }
        let b: any StorageBackend
        switch target.kind {
        case .file(let options): b = try FileBackend(bucket: target.name, options: options, listCache: listCache)
        case .s3(let options): b = try S3Backend(bucket: target.name, options: options)
        }
        backends[name] = b
        return b
    }
}

extension Route {
    /// The target a route addresses, if any (for hidden-bucket masking).
    var target: Target? {
        switch self {
        case .listObjects(let t, _, _), .browse(let t, _, _), .acl(let t), .location(let t), .object(let t, _, _),
             .preview(let t, _, _): return t
        case .robots, .asset, .preflight, .listBuckets, .health, .metrics, .error: return nil
        }
    }
}
