import Glibc
import Logging
import Posix
@testable import S3Protocol
@testable import Storage
import Testing
@testable import X2S3Core

/// A sink that implements the optional hooks, recording their use: `sendFile` "splices" by
/// reading the file itself, so the body can still be checked.
struct HookedSink: ResponseSink {
    var bytes: [UInt8] = []
    var sentRanges: [Range<UInt64>] = []
    var longWork = 0

    mutating func write(_ b: UnsafeRawBufferPointer) throws { bytes.append(contentsOf: b) }
    mutating func flush() throws {}
    mutating func willTakeLong() { longWork += 1 }
    mutating func sendFile(_ file: FileDescriptor, range: Range<UInt64>) throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: Int(range.count))
        let n = file.withRawValue { fd in chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(range.lowerBound)) } }
        guard n == chunk.count else { return false }
        bytes += chunk
        sentRanges.append(range)
        return true
    }
}

/// The dispatcher reaches the sink's own `sendFile` and `willTakeLong` (an internal wrapper sink
/// once forwarded only `write` and `flush`).
@Suite struct SinkHooksTests {
    let tree = TempTree()
    let big: [UInt8] = (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }

    init() {
        let fd = open(tree.path + "/big.bin", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        _ = big.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        let small = open(tree.path + "/small.txt", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        _ = Glibc.write(small, "hello", 5)
        close(small)
    }

    func handle(_ uri: String, headers: [String: String] = [:]) -> HookedSink {
        var c = Config()
        c.targets = [Target(name: "f", browseable: true, kind: .file(FileOptions(path: tree.path)))]
        var d = Dispatcher(config: c, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        var sink = HookedSink()
        d.handle(params: params(uri, headers: headers), sink: &sink)
        return sink
    }

    func body(_ sink: HookedSink) -> [UInt8] {
        let bytes = sink.bytes
        let end = bytes.indices.first { bytes[$0...].starts(with: Array("\r\n\r\n".utf8)) }!
        return Array(bytes[(end + 4)...])
    }

    @Test func aLargeBodyIsOfferedToSendFileAfterReleasingTheSink() {
        let sink = handle("/f/big.bin")
        #expect(sink.sentRanges == [0..<UInt64(big.count)])
        #expect(sink.longWork == 1)
        #expect(body(sink) == big)
    }

    @Test func aLargeRangeIsOfferedWithItsOffsets() {
        let sink = handle("/f/big.bin", headers: ["HTTP_RANGE": "bytes=1000-1049575"])
        #expect(sink.sentRanges == [1000..<1049576])
        #expect(body(sink) == Array(big[1000..<1049576]))
    }

    @Test func smallBodiesAreWrittenAndNeedNoRelease() {
        let sink = handle("/f/small.txt")
        #expect(sink.sentRanges.isEmpty)
        #expect(sink.longWork == 0)
        #expect(body(sink) == Array("hello".utf8))
    }

    @Test func listingsReleaseTheSinkFirst() {
        #expect(handle("/f/?list-type=2").longWork == 1)
    }
}
