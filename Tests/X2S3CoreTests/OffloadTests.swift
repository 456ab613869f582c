import Foundation
import Logging
@testable import S3Protocol
@testable import Storage
import Testing
@testable import X2S3Core

/// Offload mode through the dispatcher, on a real directory (the no-symlink open is the point).
@Suite struct OffloadTests {
    let root: String

    init() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("x2s3-offload-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try Data("0123456789".utf8).write(to: dir.appendingPathComponent("ten.bin"))
        try Data("odd".utf8).write(to: dir.appendingPathComponent("sub/q?#% é.txt"))
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("link.bin").path, withDestinationPath: "ten.bin")
        root = dir.resolvingSymlinksInPath().path
    }

    func run(_ uri: String, method: String = "GET", offload: Bool = true, announce: Bool = true, headers: [String: String] = [:]) -> RecordingSink {
        var options = FileOptions(path: root)
        options.offload = offload
        var c = Config()
        c.targets = [Target(name: "b", kind: .file(options))]
        var d = Dispatcher(config: c, logger: Logger(label: "t", factory: { _ in SwiftLogNoOpLogHandler() }))
        var p = params(uri, method: method, headers: headers)
        if announce { p["X2S3_OFFLOAD"] = "/.x2s3-offload/" }
        var sink = RecordingSink()
        d.handle(params: p, sink: &sink)
        return sink
    }

    @Test func getOffloadsWithTheStreamedHeadersAndNoBody() {
        let o = run("/b/ten.bin"), s = run("/b/ten.bin", offload: false)
        #expect(o.status == 200 && o.parsed.body.isEmpty)
        #expect(o.header("X-Accel-Redirect") == "/.x2s3-offload" + Offload.percentEncodePath(root + "/ten.bin"))
        #expect(s.bodyText == "0123456789" && s.header("X-Accel-Redirect") == nil)
        // nginx adds Accept-Ranges to a 200 itself.
        let strip = { (r: RecordingSink) in r.parsed.headers.filter { !["x-amz-request-id", "X-Accel-Redirect", "Accept-Ranges"].contains($0.0) }.map { "\($0.0): \($0.1)" } }
        #expect(strip(o) == strip(s))
    }

    @Test func rangeOffloadsAs206KeepingAcceptRanges() {
        let o = run("/b/ten.bin", headers: ["HTTP_RANGE": "bytes=-3"])
        #expect(o.status == 206 && o.header("Content-Range") == "bytes 7-9/10")
        #expect(o.header("Accept-Ranges") == "bytes" && o.header("X-Accel-Redirect") != nil)
    }

    @Test(arguments: [
        ("HEAD", [:]), ("GET", ["HTTP_RANGE": "bytes=0-1,4-5"]), ("GET", ["HTTP_RANGE": "bytes=x"]),
        ("GET", ["HTTP_RANGE": "bytes=0-1", "HTTP_IF_RANGE": "\"other\""]), ("GET", ["HTTP_IF_MATCH": "*"]),
    ] as [(String, [String: String])])
    func outcomesNginxWouldNotReproduceStream(method: String, headers: [String: String]) {
        let r = run("/b/ten.bin", method: method, headers: headers)
        #expect(r.header("X-Accel-Redirect") == nil)
        #expect(method == "HEAD" || r.bodyText == "0123456789")
    }

    @Test func notModifiedAndUnsatisfiableStayInTheWorker() {
        let etag = run("/b/ten.bin").header("ETag")!
        #expect(run("/b/ten.bin", headers: ["HTTP_IF_NONE_MATCH": etag]).status == 304)
        let r = run("/b/ten.bin", headers: ["HTTP_RANGE": "bytes=20-"])
        #expect(r.status == 416 && r.header("X-Accel-Redirect") == nil)
    }

    @Test func symlinkedKeysStreamAndOffIsOff() {
        #expect(run("/b/link.bin").header("X-Accel-Redirect") == nil)
        #expect(run("/b/link.bin").bodyText == "0123456789")
        #expect(run("/b/ten.bin", announce: false).header("X-Accel-Redirect") == nil)
        #expect(run("/b/ten.bin", offload: false).header("X-Accel-Redirect") == nil)
        #expect(run("/b/nope").status == 404)
    }

    @Test func pathIsPercentEncoded() {
        let r = run("/b/sub/q%3F%23%25%20%C3%A9.txt")
        #expect(r.header("X-Accel-Redirect")?.hasSuffix("/sub/q%3F%23%25%20%C3%A9.txt") == true)
        #expect(Offload.percentEncodePath("/a b/~x+y") == "/a%20b/~x%2By")
        #expect(!Offload.isValidPrefix("/a?b") && !Offload.isValidPrefix("rel/") && Offload.isValidPrefix("/.x2s3-offload/"))
    }
}

@Suite struct CachePolicyTests {
    @Test(arguments: ["a/.zarray", ".zattrs", "x/zarr.json", "s0/attributes.json", "img/info", "a/.zgroup", "a/.zmetadata"])
    func metadataIsShortAndRevalidated(key: String) {
        #expect(CachePolicy.cacheControl(forKey: key) == CachePolicy.metadata)
    }

    @Test(arguments: ["a/0.0.0", "a/c/0/1/2", "n5/s0/3/4/5", "img/64_64_64/0-64_0-64_0-64", "img/0.shard", "7"])
    func chunksAreLong(key: String) {
        #expect(CachePolicy.cacheControl(forKey: key) == CachePolicy.chunk)
    }

    @Test(arguments: ["a/readme.txt", "a/0..1", "a/.0", "a/0.", "x/info.json", "a/b-c", "a/1e5", ""])
    func otherKeysHaveNoOpinion(key: String) {
        #expect(CachePolicy.cacheControl(forKey: key) == nil)
    }
}
