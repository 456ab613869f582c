@testable import S3Protocol
import Testing
@testable import X2S3Core

/// The in-memory sink that reads small objects: a body over its limit is refused as such, never
/// mistaken for a client that went away.
@Suite struct CollectingSinkTests {
    func write<S: ResponseSink>(_ count: Int, into writer: inout BodyWriter<S>) throws {
        let bytes = [UInt8](repeating: 7, count: count)
        try bytes.withUnsafeBytes { try writer.write($0) }
    }

    @Test func bytesUpToTheLimitAreKept() throws {
        var writer = BodyWriter(sink: CollectingSink(limit: 5))
        try write(3, into: &writer)
        try write(2, into: &writer)
        #expect(writer.failed == nil)
        #expect(writer.finish().bytes == [UInt8](repeating: 7, count: 5))
    }

    @Test func aBodyOverTheLimitIsLimitExceededNotClientGone() throws {
        var writer = BodyWriter(sink: CollectingSink(limit: 4))
        try write(3, into: &writer)
        #expect(throws: SinkError.limitExceeded) { try write(2, into: &writer) }
        #expect(writer.failed == .limitExceeded)
        // Later writes are refused with the same reason, and nothing past the limit was kept.
        #expect(throws: SinkError.limitExceeded) { try write(1, into: &writer) }
        #expect(writer.finish().bytes.count == 3)
    }

    @Test func otherSinkErrorsStillMeanTheClientWentAway() {
        var writer = BodyWriter(sink: RecordingSink(failAfter: 0))
        #expect(throws: SinkError.clientGone) { try write(1, into: &writer) }
        #expect(writer.failed == .clientGone)
    }
}
