import CCurl
import Testing
@testable import HTTPClient

/// The write callback's staging: libcurl hands over at most 16 KiB per call, the consumer gets
/// whole stages, in order, and nothing is lost or repeated.
@Suite struct BodyStagingTests {
    /// Feeds `data` to `state` the way libcurl does: through the C callback, 16 KiB at a time.
    func feed(_ data: [UInt8], to state: TransferState) -> [Int] {
        var results: [Int] = []
        var copy = data
        copy.withUnsafeMutableBytes { all in
            var i = 0
            while i < all.count {
                let n = min(16384, all.count - i)
                let chunk = (all.baseAddress! + i).assumingMemoryBound(to: CChar.self)
                results.append(TransferState.writeCallback(chunk, 1, n, Unmanaged.passUnretained(state).toOpaque()))
                i += n
            }
        }
        return results
    }

    @Test func chunksReachTheConsumerAsFullStagesThenTheRestOnFlush() {
        let state = TransferState(stageCapacity: 40_000)
        var sizes: [Int] = []
        var received: [UInt8] = []
        state.consumer = { sizes.append($0.count); received += $0 }
        let data = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }
        let results = feed(data, to: state)
        #expect(results == [16384, 16384, 16384, 16384, 16384, 16384, 1696])
        #expect(sizes == [40_000, 40_000])
        #expect(state.flush())
        #expect(sizes == [40_000, 40_000, 20_000])
        #expect(received == data)
        #expect(state.flush() && sizes.count == 3)  // nothing left to hand over
    }

    @Test func withoutAConsumerTheTransferPausesAndNothingIsStaged() {
        let state = TransferState(stageCapacity: 40_000)
        let results = feed([UInt8](repeating: 1, count: 100), to: state)
        #expect(results == [x2s3_curl_writefunc_pause()])
        #expect(state.paused && state.staged == 0)
    }

    struct Refused: Error {}

    @Test func aConsumerThatThrowsStopsTheTransfer() {
        let state = TransferState(stageCapacity: 20_000)
        var calls = 0
        state.consumer = { _ in calls += 1; throw Refused() }
        let results = feed([UInt8](repeating: 2, count: 50_000), to: state)
        // The second chunk fills the stage; the consumer refuses it, and libcurl is told so
        // with a short count (it then aborts with CURLE_WRITE_ERROR).
        #expect(results.prefix(2) == [16384, 0])
        #expect(calls == 1)
        #expect(state.consumerError is Refused)
        #expect(!state.flush())
    }

    @Test func aChunkAsLargeAsTheStageIsNotCopied() {
        let state = TransferState(stageCapacity: 1024)
        var seen: UnsafeRawPointer?
        state.consumer = { seen = $0.baseAddress }
        let data = [UInt8](repeating: 3, count: 4096)
        data.withUnsafeBytes { #expect(state.take($0) && seen == $0.baseAddress) }
    }

    @Test func resetDropsWhatWasStaged() {
        let state = TransferState(stageCapacity: 40_000)
        state.consumer = { _ in }
        _ = feed([UInt8](repeating: 4, count: 1000), to: state)
        #expect(state.staged == 1000)
        state.reset()
        #expect(state.staged == 0)
    }
}
