import Auth
import Browser
import Logging
import Posix
import S3Protocol
import Storage

/// The HTML folder pages for people (content-negotiated with the S3 XML on the same URLs):
/// one listing page, plus at most three small metadata reads when the folder is a dataset.
extension Dispatcher {
    /// Entries per folder page.
    static let browsePageSize = 200
    /// Metadata documents read per page at most (root documents plus one scale's array metadata).
    static let maxMetadataReads = 3

    mutating func browse(target: Target, bucket: String, prefix: String, request: S3Request, routed: RoutedRequest) throws(S3Error) -> Response {
        let trail = PageTrail(query: request.query)
        // The search form's text: the listing's prefix is the folder's plus it.
        let find = request.queryValue("find").flatMap { $0 } ?? ""
        var query = ListQuery(version: .v2)
        query.prefix = prefix + find
        query.delimiter = "/"
        query.maxKeys = Self.browsePageSize
        query.continuationToken = trail.token
        let backend = try backend(for: target)
        let page = try backend.list(query)
        // The metadata documents sort first in their folder, so the first page shows them.
        let dataset = trail.token == nil && find.isEmpty ? detectDataset(in: page, prefix: prefix, backend: backend) : nil
        let html = HTMLPages.browse(bucket: bucket, prefix: prefix, page: page, trail: trail, dataset: dataset,
                                    context: pageContext(request, routed), find: find)
        return Response(status: 200, contentType: "text/html; charset=utf-8", body: Array(html.utf8))
    }

    func pageContext(_ request: S3Request, _ routed: RoutedRequest) -> HTMLPages.Context {
        var context = HTMLPages.Context(scheme: request.scheme, host: request.host ?? "localhost", virtualHost: routed.virtualHost,
                                        basePath: config.baseURL?.path ?? "/", baseURL: config.baseURL?.string, viewers: config.viewers)
        // Through a capability link every link stays inside it: its path is the pages' base,
        // and nothing above the granted prefix is linked.
        if case .capability(let grant, let token) = access {
            context = HTMLPages.Context(scheme: request.scheme, host: request.host ?? "localhost", virtualHost: false,
                                        basePath: (config.baseURL?.path ?? "/") + Capability.pathPrefix + token + "/",
                                        baseURL: nil, viewers: config.viewers)
            context.floor = context.href(bucket: grant.bucket, key: grant.prefix)
        }
        return context
    }

    /// What an error page needs, when the error goes to a person: `ui` on and an Accept that
    /// prefers HTML (the folder pages' rule), on anything but HEAD. The way back is the
    /// containing folder when the bucket is browseable, else the bucket list.
    func errorPage(_ request: S3Request, _ routed: RoutedRequest) -> ErrorPage? {
        guard config.ui, request.method != "HEAD", Router.prefersHTML(request.header("accept")) else { return nil }
        let context = pageContext(request, routed)
        var folder: (target: Target, bucket: String, prefix: String)?
        switch routed.route {
        case .object(let t, let bucket, let key), .preview(let t, let bucket, let key): folder = (t, bucket, Self.parentPrefix(key))
        case .browse(let t, let bucket, let prefix) where !prefix.isEmpty: folder = (t, bucket, Self.parentPrefix(prefix))
        default: folder = nil
        }
        guard let folder, folder.target.browseable else {
            return ErrorPage(context: context, back: HTMLPages.Back(href: context.home, label: "all buckets"), refusal: routed.refusal)
        }
        let label = folder.prefix.isEmpty ? folder.bucket : String(folder.prefix.dropFirst(Self.parentPrefix(folder.prefix).count))
        return ErrorPage(context: context, back: HTMLPages.Back(href: context.href(bucket: folder.bucket, key: folder.prefix), label: label),
                         refusal: routed.refusal)
    }

    /// The folder holding a key or folder prefix: `a/b/c` and `a/b/c/` → `a/b/`, `c` → empty.
    static func parentPrefix(_ key: String) -> String {
        var k = Substring(key)
        if k.hasSuffix("/") { k = k.dropLast() }
        guard let slash = k.lastIndex(of: "/") else { return "" }
        return String(k[...slash])
    }

    /// Recognises a dataset from the folder's own metadata documents. Best effort: a document
    /// that cannot be read or parsed just means "not recognised", never a failed page.
    func detectDataset(in page: ListPage, prefix: String, backend: any StorageBackend) -> Dataset? {
        var sizes: [String: UInt64] = [:]
        for o in page.objects where o.key.count > prefix.count {
            let name = String(o.key.dropFirst(prefix.count))
            if Datasets.metadataNames.contains(name) { sizes[name] = o.size }
        }
        guard !sizes.isEmpty else { return nil }
        let names = Set(sizes.keys)
        var documents: [String: [UInt8]] = [:]
        var reads = 0
        for name in Datasets.documentsToRead(names: names) where reads < Self.maxMetadataReads {
            guard let size = sizes[name], size <= Datasets.maxDocumentBytes else { continue }
            reads += 1
            if let bytes = readSmallObject(backend, key: prefix + name) { documents[name] = bytes }
        }
        let folders = page.commonPrefixes.map { String($0.dropFirst(prefix.count).dropLast()) }
        guard var dataset = Datasets.detect(names: names, documents: documents, folders: folders) else { return nil }
        if let key = dataset.scaleMetadataKey, reads < Self.maxMetadataReads,
           let bytes = readSmallObject(backend, key: prefix + key) {
            dataset = Datasets.addingScaleFacts(dataset, document: bytes)
        }
        return dataset
    }

    /// The whole of a small object (≤ `Datasets.maxDocumentBytes`), or nil.
    func readSmallObject(_ backend: any StorageBackend, key: String) -> [UInt8]? {
        let limit = Datasets.maxDocumentBytes
        do {
            let body = try backend.open(key, range: .closed(0, limit - 1))
            guard body.info.size <= limit else { return nil }
            return collect(body, size: body.info.size)
        } catch {
            logger.debug("dataset metadata not read", metadata: ["key": "\(key)", "error": "\(error)"])
            return nil
        }
    }
}

/// An error page's surroundings: where it is served from, and the way back.
struct ErrorPage {
    var context: HTMLPages.Context
    var back: HTMLPages.Back
    /// Why access control refused the request, if it did: the page then says how it opens.
    var refusal: Refusal? = nil
}

/// A sink that keeps the bytes in memory, for reading small metadata objects through the
/// same streaming path as responses; refuses to grow past `limit`.
struct CollectingSink: ResponseSink {
    var bytes: [UInt8] = []
    let limit: Int

    init(limit: Int) { self.limit = limit }

    mutating func write(_ b: UnsafeRawBufferPointer) throws {
        guard bytes.count + b.count <= limit else { throw SinkError.limitExceeded }
        bytes.append(contentsOf: b)
    }

    mutating func flush() throws {}
    /// Nothing is held that other requests could wait on.
    mutating func willTakeLong() {}
    /// Files are copied into memory, never spliced.
    mutating func sendFile(_ file: FileDescriptor, range: Range<UInt64>) throws -> Bool { false }
}
