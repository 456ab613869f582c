@testable import FastCGI
import Dispatch
import Foundation
import Glibc
import Synchronization
import Testing

/// `FastCGIOutput`'s direct records (the path large bodies take past libfcgi), checked on a real
/// socketpair: every byte read back from the other end is parsed as FastCGI records.
@Suite struct DirectRecordsTests {
    struct Record: Equatable {
        var version: UInt8, type: UInt8, requestID: UInt16, contentLength: Int, paddingLength: UInt8, reserved: UInt8
    }

    /// Distinct bytes at every offset, so a lost, repeated or reordered record shows in the contents.
    static func body(_ count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
    }

    /// Whether the writing thread's `writeRecords` threw, handed to the test's thread.
    final class Outcome: Sendable {
        let threw = Mutex(false)
        let done = DispatchSemaphore(value: 0)
    }

    /// Runs `writeRecords` on one end of a socketpair in a thread (the reader must drain a body larger
    /// than the socket buffer), closes that end, and returns everything the other end received.
    static func roundTrip(_ input: [UInt8], requestID: UInt16) throws -> (bytes: [UInt8], threw: Bool) {
        var fds: [Int32] = [-1, -1]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        let (reader, writer) = (fds[0], fds[1])
        defer { close(reader) }
        let outcome = Outcome()
        Thread.detachNewThread {
            do {
                try input.withUnsafeBytes { try FastCGIOutput.writeRecords($0, fd: writer, requestID: requestID) }
            } catch {
                outcome.threw.withLock { $0 = true }
            }
            close(writer)
            outcome.done.signal()
        }
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(reader, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            #expect(n >= 0)
            if n <= 0 { break }
            received += chunk[0..<n]
        }
        outcome.done.wait()
        return (received, outcome.threw.withLock { $0 })
    }

    /// Splits a stream into records; nil when it ends inside a header or a record's contents.
    static func parse(_ stream: [UInt8]) -> [(header: Record, content: ArraySlice<UInt8>)]? {
        var records: [(header: Record, content: ArraySlice<UInt8>)] = []
        var at = 0
        while at < stream.count {
            guard stream.count - at >= 8 else { return nil }
            let h = stream[at..<(at + 8)].map { $0 }
            let record = Record(version: h[0], type: h[1], requestID: UInt16(h[2]) << 8 | UInt16(h[3]),
                                contentLength: Int(h[4]) << 8 | Int(h[5]), paddingLength: h[6], reserved: h[7])
            let end = at + 8 + record.contentLength + Int(record.paddingLength)
            guard end <= stream.count else { return nil }
            records.append((record, stream[(at + 8)..<(at + 8 + record.contentLength)]))
            at = end
        }
        return records
    }

    @Test(arguments: [0, 1, 8191, 8192, 65527, 65528, 65529, 131_056, 200_000])
    func recordsCarryTheBytesInFullSizeRecords(size: Int) throws {
        let input = Self.body(size)
        let requestID: UInt16 = 0x1234
        let (stream, threw) = try Self.roundTrip(input, requestID: requestID)
        #expect(!threw)
        let records = try #require(Self.parse(stream))

        let full = FastCGIOutput.maxRecordContent
        #expect(full == 65528)
        #expect(records.count == (size + full - 1) / full)  // none at all for an empty write
        #expect(stream.count == size + 8 * records.count)
        for (i, r) in records.enumerated() {
            let expectedLength = i < records.count - 1 ? full : size - full * (records.count - 1)
            #expect(r.header == Record(version: 1, type: 6, requestID: requestID, contentLength: expectedLength,
                                       paddingLength: 0, reserved: 0))
        }
        #expect(records.flatMap { $0.content } == input)
    }

    @Test(arguments: [UInt16(1), 0x00FF, 0xFF00, 0xFFFF])
    func requestIDIsBigEndianInEveryRecord(requestID: UInt16) throws {
        let input = Self.body(70_000)
        let (stream, threw) = try Self.roundTrip(input, requestID: requestID)
        #expect(!threw)
        let records = try #require(Self.parse(stream))
        #expect(records.count == 2)
        #expect(records.allSatisfy { $0.header.requestID == requestID })
        #expect(records.flatMap { $0.content } == input)
    }

    @Test func writingToAClosedPeerThrowsClientGone() {
        var fds: [Int32] = [-1, -1]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        close(fds[0])
        defer { close(fds[1]) }
        // SIGPIPE would end the test process, as it would a worker (which ignores it too). Left
        // ignored: restoring it could race with another test's write.
        signal(SIGPIPE, SIG_IGN)
        let input = Self.body(100_000)
        #expect(throws: FastCGIError.clientGone) {
            try input.withUnsafeBytes { try FastCGIOutput.writeRecords($0, fd: fds[1], requestID: 1) }
        }
    }

    @Test(arguments: [(UInt16(1), 0), (0x1234, 1), (0xABCD, 0x0102), (0xFFFF, 65528), (0x0100, 0xFF)])
    func recordHeaderMatchesTheDirectRecords(requestID: UInt16, length: Int) throws {
        var header = [UInt8](repeating: 0xEE, count: 8)
        FastCGIOutput.recordHeader(&header, requestID: requestID, length: length)
        #expect(header == [1, 6, UInt8(requestID >> 8), UInt8(requestID & 0xFF),
                           UInt8(length >> 8), UInt8(length & 0xFF), 0, 0])
        // And the same header as writeRecords sends for a write of that length.
        guard length > 0, length <= FastCGIOutput.maxRecordContent else { return }
        let sent = try Self.roundTrip(Self.body(length), requestID: requestID)
        #expect(!sent.threw)
        #expect(Array(sent.bytes.prefix(8)) == header)
    }
}
