@testable import Browser
import Logging
@testable import S3Protocol
@testable import Storage
import Testing
@testable import X2S3Core

/// An in-memory bucket that lists like S3 (prefix, delimiter, max-keys) with opaque tokens
/// full of characters that break naive links; it counts reads to check the page stays cheap.
final class ListingMemoryBackend: StorageBackend {
    let inner: MemoryBackend
    var opened: [String] = []
    static let tokenTag = "t&+/="

    init(_ objects: [String: [UInt8]]) { inner = MemoryBackend(objects) }

    func head(_ key: String) throws(S3Error) -> ObjectInfo { try inner.head(key) }
    var creationDate: Int64? { nil }
    func open(_ key: String, range: ByteRangeRequest?) throws(S3Error) -> any ObjectBody {
        opened.append(key)
        return try inner.open(key, range: range)
    }
    func list(_ query: ListQuery) throws(S3Error) -> ListPage {
        var after = ""
        if let token = query.continuationToken {
            guard token.hasPrefix(Self.tokenTag) else { throw .invalidArgument("bad token", argumentName: "continuation-token") }
            after = String(token.dropFirst(Self.tokenTag.count))
        }
        var entries: [(String, Bool)] = []  // (key or prefix, isPrefix)
        var seen = Set<String>()
        for key in inner.objects.keys.sorted() where key.hasPrefix(query.prefix) {
            let rest = key.dropFirst(query.prefix.count)
            if let d = query.delimiter, !d.isEmpty, let slash = rest.firstIndex(of: Character(d)) {
                let p = query.prefix + rest[...slash]
                if seen.insert(p).inserted { entries.append((p, true)) }
            } else {
                entries.append((key, false))
            }
        }
        let remaining = entries.filter { $0.0 > after }
        var page = ListPage()
        for (k, isPrefix) in remaining.prefix(query.maxKeys) {
            if isPrefix { page.commonPrefixes.append(k) } else {
                page.objects.append(ListedObject(key: k, size: UInt64(inner.objects[k]!.count), lastModified: inner.mtime, etag: nil))
            }
        }
        if remaining.count > query.maxKeys {
            page.isTruncated = true
            page.nextContinuationToken = Self.tokenTag + remaining[query.maxKeys - 1].0
        }
        return page
    }
}

@Suite struct BrowseTests {
    static let html = ["HTTP_ACCEPT": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"]

    func dispatcher(_ backend: ListingMemoryBackend, hidden: Bool = false, baseURL: BaseURL? = nil) -> Dispatcher {
        var c = Config()
        c.baseURL = baseURL
        c.targets = [Target(name: "mem", kind: .file(FileOptions(path: "/nonexistent"))),
                     Target(name: "secret", browseable: !hidden, kind: .file(FileOptions(path: "/nonexistent")))]
        var d = Dispatcher(config: c, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        d.backends["mem"] = backend
        d.backends["secret"] = backend
        return d
    }

    func get(_ d: inout Dispatcher, _ uri: String, method: String = "GET", headers: [String: String] = html) -> RecordingSink {
        var sink = RecordingSink()
        d.handle(params: params(uri, method: method, headers: headers), sink: &sink)
        return sink
    }

    /// Follows an href from a page the way a browser would (undoing the attribute escaping).
    func follow(_ href: String) -> String { href.replacing("&amp;", with: "&") }

    /// The href of the `<a rel="…">` in a page, as a browser would request it.
    func link(_ rel: String, in body: String) -> String? {
        guard let r = body.firstRange(of: "rel=\"\(rel)\" href=\"") else { return nil }
        return String(body[r.upperBound...].prefix { $0 != "\"" }).replacing("&amp;", with: "&")
    }

    @Test func walksA450EntryFolderForwardAndBackByItsLinks() throws {
        var objects: [String: [UInt8]] = [:]
        for i in 0..<450 { objects["big/f\(1000 + i).txt"] = [1] }
        var d = dispatcher(ListingMemoryBackend(objects))
        var uri = "/mem/big/"
        var seen: [String] = []
        var pages: [String] = []
        while true {
            let r = get(&d, uri)
            #expect(r.status == 200)
            pages.append(uri)
            seen += hrefs(r.bodyText).filter { $0.hasPrefix("/mem/big/f") && !$0.hasSuffix("?preview") }
            guard let next = link("next", in: r.bodyText) else { break }
            uri = next
        }
        #expect(pages.count == 3)
        #expect(Set(seen).count == 450)
        #expect(get(&d, pages[1]).bodyText.contains("200 files on page 2"))
        // Back from the last page by the "previous" links visits the same pages in reverse.
        var back = [uri]
        while let prev = link("prev", in: get(&d, uri).bodyText) {
            uri = prev
            back.append(uri)
        }
        #expect(back == pages.reversed())
    }

    @Test func hiddenBucketsAreAbsentFromTheIndexAndTheirFoldersAre403() {
        var d = dispatcher(ListingMemoryBackend(["a/b": [1]]), hidden: true)
        let index = get(&d, "/")
        #expect(index.status == 200 && index.header("Content-Type") == "text/html; charset=utf-8")
        #expect(index.bodyText.contains(">mem</a>") && !index.bodyText.contains("secret"))
        #expect(get(&d, "/secret/").status == 403)
        #expect(get(&d, "/secret/a/").status == 403)
        #expect(get(&d, "/secret/a/b").status == 200, "keys are still served")
    }

    @Test func headOnAPageHasTheSameHeadersAsGet() {
        var d = dispatcher(ListingMemoryBackend(["a/b": [1]]))
        for uri in ["/", "/mem/", "/mem/a/", "/static/x2s3.css"] {
            let g = get(&d, uri), h = get(&d, uri, method: "HEAD")
            let strip = { (r: RecordingSink) in r.parsed.headers.filter { $0.0 != "x-amz-request-id" }.map { "\($0.0): \($0.1)" } }
            #expect(h.status == g.status && strip(h) == strip(g))
            #expect(h.parsed.body.isEmpty)
        }
        #expect(get(&d, "/mem/a/").header("Vary") == "Accept, Accept-Encoding")
        #expect(get(&d, "/static/x2s3.css").header("Cache-Control") == "public, max-age=86400")
    }

    @Test func xmlClientsStillGetXML() {
        var d = dispatcher(ListingMemoryBackend(["a/b": [1]]))
        #expect(get(&d, "/mem/a/", headers: [:]).status == 404, "GetObject(\"a/\") for S3 clients")
        #expect(get(&d, "/", headers: [:]).bodyText.contains("<ListAllMyBucketsResult"))
    }

    @Test func datasetFolderIsLabelledAfterReadingOnlyItsMetadata() {
        var objects: [String: [UInt8]] = ["img.zarr/.zgroup": Array(Samples.zgroup.utf8),
                                          "img.zarr/.zattrs": Array(Samples.omeZattrs.utf8),
                                          "img.zarr/0/.zarray": Array(Samples.omeScale0.utf8)]
        for c in 0..<20 { objects["img.zarr/0/0.0.\(c).0"] = [UInt8](repeating: 9, count: 100) }
        let backend = ListingMemoryBackend(objects)
        var d = dispatcher(backend, baseURL: BaseURL(scheme: "https", host: "h.example", port: nil, path: "/x2s3/"))
        let r = get(&d, "/x2s3/mem/img.zarr/")
        #expect(r.status == 200)
        #expect(r.bodyText.contains("OME-Zarr 0.4 image"))
        #expect(r.bodyText.contains("<dt>Shape (scale 0)</dt><dd>2 × 64 × 1024 × 1024 (c, z, y, x)</dd>"))
        #expect(r.bodyText.contains("zarr2%3A%2F%2Fhttp%3A%2F%2Flocalhost%3A8080%2Fx2s3%2Fmem%2Fimg.zarr%22"))
        #expect(backend.opened.sorted() == ["img.zarr/.zattrs", "img.zarr/0/.zarray"])
        // The parent only hints, from the name, and reads nothing.
        backend.opened = []
        #expect(get(&d, "/x2s3/mem/").bodyText.contains("<span class=\"badge\">Zarr</span>"))
        #expect(backend.opened.isEmpty)
    }

    @Test func oversizedMetadataIsNotRead() {
        let huge = [UInt8](repeating: 0x20, count: Int(Datasets.maxDocumentBytes) + 1)
        let backend = ListingMemoryBackend(["d/info": huge])
        var d = dispatcher(backend)
        #expect(get(&d, "/mem/d/").status == 200)
        #expect(backend.opened.isEmpty)
    }
}
