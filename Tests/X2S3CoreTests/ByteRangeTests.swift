@testable import S3Protocol
import Testing
@testable import X2S3Core

@Suite struct ByteRangeTests {
    @Test(arguments: [
        ("bytes=0-9", 100, 0..<10), ("bytes=10-", 100, 10..<100), ("bytes=-5", 100, 95..<100),
        ("bytes=90-200", 100, 90..<100), ("bytes=-500", 100, 0..<100), ("bytes= 0-3", 100, 0..<4),
        ("BYTES=1-1", 100, 1..<2),
        // Ends past 2^63 and 2^64 mean "to the end", as in S3.
        ("bytes=0-99999999999999999999", 100, 0..<100), ("bytes=5-18446744073709551615", 100, 5..<100),
        ("bytes=7-9223372036854775809", 100, 7..<100), ("bytes=0-123456789012345678901234567890", 100, 0..<100),
    ] as [(String, UInt64, Range<UInt64>)])
    func satisfiableRangesResolveLikeRFC9110(header: String, size: UInt64, expected: Range<UInt64>) {
        #expect(ByteRangeRequest(header: header)?.resolve(size: size) == expected)
    }

    @Test func suffixRangeReturnsLastNBytes() {
        #expect(ByteRangeRequest(header: "bytes=-3")?.resolve(size: 10) == 7..<10)
    }

    @Test(arguments: ["bytes=100-", "bytes=100-200", "bytes=-0"])
    func unsatisfiableRangesResolveToNil(header: String) {
        #expect(ByteRangeRequest(header: header) != nil)
        #expect(ByteRangeRequest(header: header)?.resolve(size: 100) == nil)
    }

    @Test func anyRangeOfAnEmptyObjectIsUnsatisfiable() {
        #expect(ByteRangeRequest(header: "bytes=0-")?.resolve(size: 0) == nil)
        #expect(ByteRangeRequest(header: "bytes=-1")?.resolve(size: 0) == nil)
    }

    @Test(arguments: ["items=0-1", "bytes=", "bytes=-", "bytes=a-b", "bytes=5-1", "bytes=0-1,3-4", "bytes=1", "", "bytes=99999999999999999999-"])
    func malformedOrMultiRangeHeadersAreIgnored(header: String) {
        #expect(ByteRangeRequest(header: header) == nil)
    }
}
