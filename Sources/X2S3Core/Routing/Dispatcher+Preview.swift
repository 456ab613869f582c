import Browser
import S3Protocol
import Storage

/// `<object URL>?preview` (operation `Preview`): an HTML page showing the object. It reads at
/// most `Preview.textLimit` bytes of the object, and none for images and binary types.
extension Dispatcher {
    mutating func preview(target: Target, bucket: String, key: String, request: S3Request,
                          routed: RoutedRequest) throws(S3Error) -> Response {
        guard key.utf8.count <= S3Request.maxKeyBytes else { throw .keyTooLong }
        let backend = try backend(for: target)
        let name = MediaType.lastSegment(key)
        var kind = Preview.kind(name: name)
        let info: ObjectInfo
        var bytes: [UInt8]?
        if kind.readsContent {
            // A remote backend fetches only the first bytes of a larger object.
            let body = try backend.open(key, range: .closed(0, Preview.textLimit - 1))
            info = body.info
            if info.size <= Preview.textLimit { bytes = collect(body, size: info.size) }
        } else {
            info = try backend.head(key)
        }
        if case .sniff = kind, let stored = info.contentType { kind = Preview.kind(name: name, storedType: stored) }
        let type = info.contentType ?? MediaType.forName(name)
        let facts = HTMLPages.PreviewFacts(size: info.size, lastModified: info.lastModified.seconds, etag: info.etag,
                                           contentType: type)
        let html = HTMLPages.preview(bucket: bucket, key: key, browseable: target.browseable, facts: facts,
                                     body: Preview.body(kind: kind, size: info.size, bytes: bytes, type: type),
                                     context: pageContext(request, routed))
        var r = Response(status: 200, contentType: "text/html; charset=utf-8", body: Array(html.utf8))
        // The page shows the object as it is now: browsers ask again, and nginx's cache does
        // not keep a copy (it honours no-cache) that would outlive a change to the object.
        r.head.add("Cache-Control", "no-cache")
        return r
    }

    /// The whole of an opened object of `size` bytes, when the body holds all of it; else nil.
    func collect(_ body: any ObjectBody, size: UInt64) -> [UInt8]? {
        guard size > 0 else { return [] }
        guard body.available.lowerBound == 0, body.available.upperBound >= size else { return nil }
        var writer = BodyWriter(sink: CollectingSink(limit: Int(size)))
        do { try body.stream(0..<size, into: &writer) } catch { return nil }
        guard writer.failed == nil else { return nil }
        return writer.finish().bytes
    }
}
