@testable import S3Protocol
import Testing
@testable import X2S3Core

@Suite struct PreconditionsTests {
    let etag = "\"abc-1\""
    let mtime: Int64 = 784111777  // Sun, 06 Nov 1994 08:49:37 GMT

    func eval(_ h: [String: String]) -> Preconditions.Outcome {
        Preconditions.evaluate(headers: h, etag: etag, lastModified: mtime)
    }

    @Test func ifMatchMismatchFails() { #expect(eval(["if-match": "\"other\""]) == .failed(condition: "If-Match")) }
    @Test func ifMatchStarAndExactTagProceed() {
        #expect(eval(["if-match": "*"]) == .proceed(honourRange: true))
        #expect(eval(["if-match": "\"x\", \"abc-1\""]) == .proceed(honourRange: true))
    }
    @Test func ifMatchWinsOverIfUnmodifiedSince() {
        #expect(eval(["if-match": etag, "if-unmodified-since": "Sat, 05 Nov 1994 08:49:37 GMT"]) == .proceed(honourRange: true))
    }
    @Test func ifUnmodifiedSinceEarlierFails() {
        #expect(eval(["if-unmodified-since": "Sat, 05 Nov 1994 08:49:37 GMT"]) == .failed(condition: "If-Unmodified-Since"))
    }
    @Test func ifNoneMatchHitIsNotModifiedEvenWeak() {
        #expect(eval(["if-none-match": etag]) == .notModified)
        #expect(eval(["if-none-match": "W/\(etag)"]) == .notModified)
        #expect(eval(["if-none-match": "*"]) == .notModified)
    }
    @Test func ifNoneMatchMissIgnoresIfModifiedSince() {
        #expect(eval(["if-none-match": "\"zzz\"", "if-modified-since": "Sun, 06 Nov 1994 08:49:37 GMT"]) == .proceed(honourRange: true))
    }
    @Test func ifModifiedSinceAtOrAfterMtimeIsNotModified() {
        #expect(eval(["if-modified-since": "Sun, 06 Nov 1994 08:49:37 GMT"]) == .notModified)
        #expect(eval(["if-modified-since": "Sun, 06 Nov 1994 08:49:36 GMT"]) == .proceed(honourRange: true))
    }
    @Test func invalidDatesAreIgnored() {
        #expect(eval(["if-modified-since": "garbage", "if-unmodified-since": "garbage"]) == .proceed(honourRange: true))
    }
    @Test func ifRangeWithMatchingTagOrDateKeepsTheRange() {
        #expect(eval(["range": "bytes=0-1", "if-range": etag]) == .proceed(honourRange: true))
        #expect(eval(["range": "bytes=0-1", "if-range": "Sun, 06 Nov 1994 08:49:37 GMT"]) == .proceed(honourRange: true))
    }
    @Test func ifRangeMismatchOrWeakTagDropsTheRange() {
        #expect(eval(["range": "bytes=0-1", "if-range": "\"old\""]) == .proceed(honourRange: false))
        #expect(eval(["range": "bytes=0-1", "if-range": "W/\(etag)"]) == .proceed(honourRange: false))
        #expect(eval(["range": "bytes=0-1", "if-range": "Sat, 05 Nov 1994 08:49:37 GMT"]) == .proceed(honourRange: false))
    }
}
