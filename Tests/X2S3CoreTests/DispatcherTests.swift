import Logging
@testable import Storage
import Testing
@testable import X2S3Core

@Suite struct DispatcherTests {
    func dispatcher(browseable: Bool = true) -> Dispatcher {
        var c = Config()
        c.targets = [Target(name: "mem", browseable: browseable, kind: .file(FileOptions(path: "/nonexistent")))]
        var d = Dispatcher(config: c, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        d.backends["mem"] = MemoryBackend(["a.txt": Array("hello world".utf8), "empty": []])
        return d
    }

    func run(_ p: [String: String], browseable: Bool = true) -> RecordingSink {
        var d = dispatcher(browseable: browseable)
        var sink = RecordingSink()
        d.handle(params: p, sink: &sink)
        return sink
    }

    @Test func getReturnsBytesAndS3Headers() {
        let r = run(params("/mem/a.txt"))
        #expect(r.status == 200)
        #expect(r.bodyText == "hello world")
        #expect(r.header("Content-Length") == "11")
        #expect(r.header("Content-Type") == "text/plain")
        #expect(r.header("Accept-Ranges") == "bytes")
        #expect(r.header("Last-Modified") == "Tue, 25 Nov 2025 10:00:00 GMT")
        #expect(r.header("ETag")?.contains("-") == true)
        #expect(r.header("Access-Control-Allow-Origin") == "*")
    }

    @Test func headHasGetsHeadersWithoutBody() {
        let g = run(params("/mem/a.txt", headers: ["HTTP_RANGE": "bytes=1-3"]))
        let h = run(params("/mem/a.txt", method: "HEAD", headers: ["HTTP_RANGE": "bytes=1-3"]))
        #expect(h.status == g.status && h.status == 206)
        #expect(h.parsed.body.isEmpty)
        let strip = { (r: RecordingSink) in r.parsed.headers.filter { $0.0 != "x-amz-request-id" }.map { "\($0.0): \($0.1)" } }
        #expect(strip(h) == strip(g))
    }

    @Test func rangeGives206WithContentRange() {
        let r = run(params("/mem/a.txt", headers: ["HTTP_RANGE": "bytes=-5"]))
        #expect(r.status == 206 && r.bodyText == "world")
        #expect(r.header("Content-Range") == "bytes 6-10/11")
    }

    @Test func unsatisfiableRangeIs416InvalidRangeXML() {
        let r = run(params("/mem/a.txt", headers: ["HTTP_RANGE": "bytes=50-"]))
        #expect(r.status == 416)
        #expect(r.header("Content-Range") == "bytes */11")
        #expect(r.bodyText.contains("<Code>InvalidRange</Code>"))
        // As AWS: the Range header as sent, then the object's size.
        #expect(r.bodyText.contains("<RangeRequested>bytes=50-</RangeRequested><ActualObjectSize>11</ActualObjectSize>"))
        let e = run(params("/mem/empty", headers: ["HTTP_RANGE": "bytes=0-"]))
        #expect(e.status == 416 && e.header("Content-Range") == "bytes */0")
    }

    @Test func malformedRangeServesWholeObject() {
        let r = run(params("/mem/a.txt", headers: ["HTTP_RANGE": "bytes=0-1,4-5"]))
        #expect(r.status == 200 && r.bodyText == "hello world")
    }

    @Test func missingKeyIsNoSuchKeyWithMatchingRequestId() {
        let r = run(params("/mem/nope.txt"))
        #expect(r.status == 404)
        #expect(r.header("Content-Type") == "application/xml")
        #expect(r.bodyText.contains("<Code>NoSuchKey</Code>") && r.bodyText.contains("<Key>nope.txt</Key>"))
        let id = r.header("x-amz-request-id") ?? ""
        #expect(id.count == 16 && id.allSatisfy { $0.isUppercase || $0.isNumber })
        #expect(r.bodyText.contains("<RequestId>\(id)</RequestId>"))
    }

    @Test func headErrorsHaveNoBody() {
        let r = run(params("/mem/nope.txt", method: "HEAD"))
        #expect(r.status == 404 && r.parsed.body.isEmpty && r.header("Content-Length") == nil)
    }

    @Test func unbrowseableBucketMasks404As403() {
        #expect(run(params("/mem/nope.txt"), browseable: false).status == 403)
        #expect(run(params("/mem/a.txt"), browseable: false).status == 200)
    }

    @Test func conditionalGetGives304WithValidators() {
        let etag = run(params("/mem/a.txt")).header("ETag")!
        let r = run(params("/mem/a.txt", headers: ["HTTP_IF_NONE_MATCH": etag]))
        #expect(r.status == 304 && r.parsed.body.isEmpty && r.header("ETag") == etag)
        #expect(run(params("/mem/a.txt", headers: ["HTTP_IF_MATCH": "\"nope\""])).status == 412)
    }

    @Test func writesGet405WithAllow() {
        let r = run(params("/mem/a.txt", method: "PUT"))
        #expect(r.status == 405 && r.header("Allow") == "GET, HEAD, OPTIONS")
        #expect(r.bodyText.contains("<Code>MethodNotAllowed</Code>"))
    }

    @Test func preflightGrantsPrivateNetworkWhenAsked() {
        let r = run(params("/mem/a.txt", method: "OPTIONS", headers: [
            "HTTP_ORIGIN": "https://viewer.example", "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "GET",
            "HTTP_ACCESS_CONTROL_REQUEST_HEADERS": "range", "HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK": "true",
        ]))
        #expect(r.status == 204)
        #expect(r.header("Access-Control-Allow-Headers") == "range")
        #expect(r.header("Access-Control-Allow-Private-Network") == "true")
        #expect(run(params("/robots.txt")).header("Access-Control-Allow-Private-Network") == nil)
    }

    @Test func clientGoneMidStreamStopsQuietly() {
        var d = dispatcher()
        d.backends["mem"] = MemoryBackend(["big": [UInt8](repeating: 7, count: 1 << 20)])
        var sink = RecordingSink(failAfter: 4096)
        d.handle(params: params("/mem/big"), sink: &sink)
        #expect(sink.bytes.count <= 4096)
        var next = RecordingSink()
        d.handle(params: params("/mem/big", method: "HEAD"), sink: &next)
        #expect(next.status == 200)
    }

    @Test func robotsTxtIsExact() {
        let r = run(params("/robots.txt"))
        #expect(r.bodyText == "User-agent: *\nDisallow: /")
        #expect(run(params("/robots.txt", method: "HEAD")).status == 200)
        #expect(run(params("/favicon.ico", method: "HEAD")).status == 200)
    }

    /// The worker drops the connection (no END_REQUEST) when this is false, so a cut reaches
    /// the client as a cut (found by the fault suite: a finished short body kept it waiting).
    @Test func handleReportsWhetherTheResponseWasComplete() {
        var d = dispatcher()
        var whole = RecordingSink()
        #expect(d.handle(params: params("/mem/a.txt"), sink: &whole))
        var error = RecordingSink()
        #expect(d.handle(params: params("/mem/missing"), sink: &error))
        var hungUp = RecordingSink(failAfter: 200)
        d.backends["mem"] = MemoryBackend(["big": [UInt8](repeating: 7, count: 1 << 20)])
        #expect(!d.handle(params: params("/mem/big"), sink: &hungUp))
    }

    @Test func requestIDsAreUniqueAndUseEveryCharacterEverywhere() {
        var generator = RequestIDGenerator()
        var seen = Set<String>()
        var perPosition = [Set<UInt8>](repeating: [], count: 16)
        for _ in 0..<20_000 {
            let id = generator.next()
            #expect(id.utf8.count == 16 && id.utf8.allSatisfy { ($0 >= 65 && $0 <= 90) || ($0 >= 48 && $0 <= 57) })
            seen.insert(id)
            for (i, b) in id.utf8.enumerated() { perPosition[i].insert(b) }
        }
        #expect(seen.count == 20_000)
        #expect(perPosition.allSatisfy { $0.count == 36 })
        var other = RequestIDGenerator()
        #expect(other.next() != generator.next())  // seeded separately
    }
}
