import Foundation
import Logging
@testable import S3Protocol
@testable import Storage
import Testing
@testable import X2S3Core

/// The one decision of how an object's bytes go out, as a table over the body's facts and the
/// request (offload on or off, symlinks, ranges, HEAD, size, a body with no local file).
@Suite struct DeliveryTests {
    let root: String
    static let big = Int(Delivery.spliceThreshold)

    init() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("x2s3-delivery-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Data("0123456789".utf8).write(to: dir.appendingPathComponent("ten.bin"))
        try Data(count: Self.big).write(to: dir.appendingPathComponent("big.bin"))
        try Data(count: Self.big - 1).write(to: dir.appendingPathComponent("almost.bin"))
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("link.bin").path, withDestinationPath: "big.bin")
        root = dir.resolvingSymlinksInPath().path
    }

    /// `Delivery.choose` for `key`, with the range resolved as the dispatcher would.
    func choose(_ key: String, method: String = "GET", offload: Bool = true, announce: Bool = true,
                headers: [String: String] = [:]) throws -> (Delivery, FileObjectBody) {
        var options = FileOptions(path: root)
        options.offload = offload
        let backend = try FileBackend(bucket: "b", options: options)
        var p = params("/b/" + key, method: method, headers: headers)
        if announce { p["X2S3_OFFLOAD"] = "/.x2s3-offload/" }
        let request = try S3Request.parse(params: p)
        let rangeRequest = ByteRangeRequest(header: request.header("range"))
        let body = try #require(try backend.open(key, range: rangeRequest) as? FileObjectBody)
        let range = rangeRequest.flatMap { $0.resolve(size: body.info.size) }
        return (Delivery.choose(body: body, request: request, range: range, wanted: range ?? 0..<body.info.size), body)
    }

    @Test func offloadNamesTheSymlinkFreePath() throws {
        let (d, _) = try choose("ten.bin")
        #expect(d == .offload(redirect: "/.x2s3-offload" + Offload.percentEncodePath(root + "/ten.bin")))
        #expect(try choose("ten.bin", headers: ["HTTP_RANGE": "bytes=0-1"]).0 == d)
    }

    @Test func withoutOffloadLargeFilesSpliceAndSmallOnesStream() throws {
        for (offload, announce) in [(false, true), (true, false)] {
            let (big, body) = try choose("big.bin", offload: offload, announce: announce)
            #expect(big == .splice(body.fd))
            #expect(try choose("almost.bin", offload: offload, announce: announce).0 == .stream)
            #expect(try choose("ten.bin", offload: offload, announce: announce).0 == .stream)
        }
        // Offload off: the file is opened the usual way and has no symlink-free path.
        #expect(try choose("ten.bin", offload: false).1.localFile?.symlinkFreePath == nil)
    }

    @Test func aSymlinkedKeyIsNeverOffloaded() throws {
        let (d, body) = try choose("link.bin")
        #expect(body.localFile?.symlinkFreePath == nil)
        #expect(d == .splice(body.fd))
    }

    @Test(arguments: [
        ["HTTP_RANGE": "bytes=0-1,4-5"], ["HTTP_RANGE": "bytes=x"], ["HTTP_IF_MATCH": "*"],
    ])
    func requestsNginxWouldAnswerDifferentlyAreNotOffloaded(headers: [String: String]) throws {
        #expect(try choose("ten.bin", headers: headers).0 == .stream)
        let (d, body) = try choose("big.bin", headers: headers)
        #expect(d == .splice(body.fd))
    }

    @Test func theRangeSentDecidesSplicing() throws {
        #expect(try choose("big.bin", offload: false, headers: ["HTTP_RANGE": "bytes=1-"]).0 == .stream)  // a byte short
        let (d, body) = try choose("big.bin", offload: false, headers: ["HTTP_RANGE": "bytes=0-"])
        #expect(d == .splice(body.fd))
    }

    @Test func headSendsNoBody() throws {
        #expect(try choose("ten.bin", method: "HEAD").0 == .headOnly)
        #expect(try choose("big.bin", method: "HEAD", offload: false).0 == .headOnly)
    }

    @Test func aBodyWithNoLocalFileStreams() throws {
        let request = try S3Request.parse(params: ["X2S3_OFFLOAD": "/.x2s3-offload/"].merging(params("/mem/x")) { a, _ in a })
        let body = MemoryBody(bytes: [UInt8](repeating: 1, count: Self.big),
                              info: ObjectInfo(size: UInt64(Self.big), lastModified: Timestamp(seconds: 0), etag: nil))
        #expect(Delivery.choose(body: body, request: request, range: nil, wanted: 0..<UInt64(Self.big)) == .stream)
    }

    /// Objects are never compressed, whatever nginx says the client accepts: gzip would change
    /// their ETag and Content-Length.
    @Test func objectsAreNeverGzipped() throws {
        var c = Config()
        c.targets = [Target(name: "b", kind: .file(FileOptions(path: root)))]
        var d = Dispatcher(config: c, logger: Logger(label: "t", factory: { _ in SwiftLogNoOpLogHandler() }))
        var sink = RecordingSink()
        d.handle(params: params("/b/big.bin", headers: [Dispatcher.gzipParam: "gzip"]), sink: &sink)
        #expect(sink.status == 200 && sink.header("Content-Encoding") == nil && sink.parsed.body.count == Self.big)
    }
}
