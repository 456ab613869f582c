@testable import FastCGI
import Dispatch
import Foundation
import Glibc
import Synchronization
import Testing

/// `FastCGIOutput.sendFile`'s splice path (file pages through a pipe, record headers between
/// them), checked on a real file and a real socketpair: what arrives parses as FCGI_STDOUT
/// records whose contents are exactly the file's bytes from the offset.
@Suite struct SpliceRecordsTests {
    final class Outcome: Sendable {
        let result = Mutex<Result<Bool, FastCGIError>>(.success(false))
        let done = DispatchSemaphore(value: 0)
    }

    /// A temporary file holding `bytes`, open for reading; removed when the test ends.
    static func file(_ bytes: [UInt8]) throws -> Int32 {
        var template = Array("/tmp/x2s3-splice-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        try #require(fd >= 0)
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        try #require(written == bytes.count)
        return fd
    }

    /// Sends `count` bytes of a file holding `content` from `offset` on one end of a socketpair
    /// in a thread; returns what the other end received and what `spliceRecords` returned.
    static func roundTrip(_ content: [UInt8], offset: UInt64, count: UInt64, requestID: UInt16 = 7,
                          closeReaderFirst: Bool = false) throws -> (bytes: [UInt8], result: Result<Bool, FastCGIError>) {
        let source = try file(content)
        defer { close(source) }
        var fds: [Int32] = [-1, -1]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        let (reader, writer) = (fds[0], fds[1])
        if closeReaderFirst { close(reader) }
        let outcome = Outcome()
        Thread.detachNewThread {
            let pipe = SplicePipe()
            let result = Result { () throws(FastCGIError) in
                try FastCGIOutput.spliceRecords(from: source, offset: offset, count: count, to: writer,
                                                requestID: requestID, through: pipe)
            }
            outcome.result.withLock { $0 = result }
            close(writer)
            outcome.done.signal()
        }
        var received: [UInt8] = []
        if !closeReaderFirst {
            defer { close(reader) }
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let n = chunk.withUnsafeMutableBytes { read(reader, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                received += chunk[0..<n]
            }
        }
        outcome.done.wait()
        return (received, outcome.result.withLock { $0 })
    }

    @Test(arguments: [(0, 0), (1, 0), (4096, 0), (65528, 0), (65529, 0), (1_000_000, 0), (1_000_000, 4095), (300_000, 123_457)])
    func splicedRecordsCarryTheFileFromTheOffset(size: Int, offset: Int) throws {
        let content = DirectRecordsTests.body(size + offset)
        let (stream, result) = try Self.roundTrip(content, offset: UInt64(offset), count: UInt64(size), requestID: 0xBEEF)
        #expect(try result.get() == true)
        let records = try #require(DirectRecordsTests.parse(stream))
        #expect(records.allSatisfy {
            $0.header.version == 1 && $0.header.type == 6 && $0.header.requestID == 0xBEEF && $0.header.paddingLength == 0
                && $0.header.contentLength > 0 && $0.header.contentLength <= FastCGIOutput.maxRecordContent
        })
        #expect(Array(records.flatMap { $0.content }) == Array(content[offset...]))
    }

    @Test func aFileShorterThanPromisedCutsTheResponseWithAnError() throws {
        let (_, result) = try Self.roundTrip(DirectRecordsTests.body(10_000), offset: 0, count: 20_000)
        guard case .failure(.system(let call, _, let context)) = result else {
            Issue.record("expected a system error, got \(result)")
            return
        }
        #expect(call == "splice")
        #expect(context == "the file ended early")
    }

    @Test func aClosedPeerIsClientGone() throws {
        // The write to a closed socket raises SIGPIPE, which the worker ignores; so must the test.
        signal(SIGPIPE, SIG_IGN)
        let (_, result) = try Self.roundTrip(DirectRecordsTests.body(500_000), offset: 0, count: 500_000,
                                             closeReaderFirst: true)
        #expect(throws: FastCGIError.clientGone) { try result.get() }
    }
}
