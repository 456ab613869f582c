import Logging
import Testing
@testable import X2S3Core

/// Compression of the documents x2s3 generates, when nginx says the client takes gzip
/// (X2S3_GZIP); objects are sent as stored whatever their type.
@Suite struct GzipTests {
    static let gzip = ["HTTP_ACCEPT": BrowseTests.html["HTTP_ACCEPT"]!, "X2S3_GZIP": "gzip"]
    static let zattrs = Array(("{\"multiscales\": [" + String(repeating: "{\"path\": \"0\"},", count: 200) + "{}]}").utf8)

    func dispatcher() -> Dispatcher {
        var objects: [String: [UInt8]] = ["img.zarr/.zattrs": Self.zattrs, "notes.txt": Array(String(repeating: "text ", count: 500).utf8)]
        for i in 0..<60 { objects["many/file-\(i).txt"] = [1] }
        return BrowseTests().dispatcher(ListingMemoryBackend(objects))
    }

    func get(_ d: inout Dispatcher, _ uri: String, method: String = "GET", headers: [String: String]) -> RecordingSink {
        BrowseTests().get(&d, uri, method: method, headers: headers)
    }

    @Test func pagesListingsAndErrorsAreGzippedWhenNginxSaysSo() {
        var d = dispatcher()
        for (uri, accept, vary) in [("/mem/many/", BrowseTests.html["HTTP_ACCEPT"]!, "Accept, Accept-Encoding"),
                                    ("/mem/?list-type=2&prefix=many/", "*/*", "Accept-Encoding"),
                                    ("/static/x2s3.css", "*/*", "Accept-Encoding")] {
            let plain = get(&d, uri, headers: ["HTTP_ACCEPT": accept])
            let packed = get(&d, uri, headers: ["HTTP_ACCEPT": accept, "X2S3_GZIP": "gzip"])
            #expect(plain.status == 200 && packed.status == 200, "\(uri)")
            #expect(plain.header("Content-Encoding") == nil)
            #expect(packed.header("Content-Encoding") == "gzip", "\(uri)")
            #expect(plain.header("Vary") == vary && packed.header("Vary") == vary, "\(uri)")
            #expect(Array(packed.parsed.body.prefix(3)) == [0x1F, 0x8B, 0x08], "gzip magic, deflate")
            #expect(packed.header("Content-Length") == String(packed.parsed.body.count))
            #expect(packed.parsed.body.count * 2 < plain.parsed.body.count, "\(uri): \(packed.parsed.body.count) vs \(plain.parsed.body.count)")
            // HEAD announces what GET sends.
            let head = get(&d, uri, method: "HEAD", headers: ["HTTP_ACCEPT": accept, "X2S3_GZIP": "gzip"])
            #expect(head.header("Content-Length") == packed.header("Content-Length") && head.header("Content-Encoding") == "gzip")
        }
    }

    @Test func objectsAreNeverCompressed() {
        var d = dispatcher()
        for (uri, bytes) in [("/mem/img.zarr/.zattrs", Self.zattrs), ("/mem/notes.txt", Array(String(repeating: "text ", count: 500).utf8))] {
            let plain = get(&d, uri, headers: ["HTTP_ACCEPT": "*/*"])
            let asked = get(&d, uri, headers: Self.gzip)
            #expect(asked.status == 200 && asked.parsed.body == bytes, "\(uri)")
            #expect(asked.header("Content-Encoding") == nil && asked.header("Vary") == nil)
            #expect(asked.header("ETag") == plain.header("ETag") && asked.header("Content-Length") == String(bytes.count))
        }
    }

    @Test func smallDocumentsAndClientsWithoutGzipGetThemAsIs() {
        var d = dispatcher()
        let small = get(&d, "/robots.txt", headers: Self.gzip)
        #expect(small.header("Content-Encoding") == nil && small.header("Vary") == nil)
        let page = get(&d, "/mem/many/", headers: ["HTTP_ACCEPT": BrowseTests.html["HTTP_ACCEPT"]!, "HTTP_ACCEPT_ENCODING": "gzip"])
        #expect(page.header("Content-Encoding") == nil, "only nginx's X2S3_GZIP decides")
        #expect(Dispatcher.paramNames.contains("X2S3_GZIP"))
    }
}
