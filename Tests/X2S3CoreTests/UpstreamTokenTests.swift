@testable import S3Protocol
@testable import Storage
import Testing
@testable import X2S3Core

@Suite struct UpstreamTokenTests {
    static let upstream = "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM="

    @Test(arguments: [upstream, "/starts-with-slash", "root/looks-like-the-prefix", "x", String(repeating: "é", count: 500)])
    func theUpstreamTokenRoundTripsUntouched(token: String) throws {
        let wrapped = UpstreamToken.wrap(token, bucket: "Data", prefix: "a/", delimiter: "/")
        #expect(!wrapped.contains("+") && !wrapped.contains("/") && !wrapped.contains("="))
        #expect(try UpstreamToken.unwrap(wrapped, bucket: "data", prefix: "a/", delimiter: "/") == token)
    }

    @Test func aTokenFromAnotherListingIsRefused() {
        let wrapped = UpstreamToken.wrap(Self.upstream, bucket: "data", prefix: "a/", delimiter: "/")
        for (bucket, prefix, delimiter) in [("other", "a/", "/"), ("data", "b/", "/"), ("data", "a/", nil as String?), ("data", "a/", "-")] {
            #expect(throws: UpstreamToken.incorrect) { try UpstreamToken.unwrap(wrapped, bucket: bucket, prefix: prefix, delimiter: delimiter) }
        }
    }

    @Test func editedTruncatedOrInventedTokensAreInvalidArgument() {
        let wrapped = UpstreamToken.wrap(Self.upstream, bucket: "data", prefix: "", delimiter: nil)
        var edited = Array(wrapped.utf8)
        edited[5] = edited[5] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        for bad in [String(decoding: edited, as: UTF8.self), String(wrapped.dropLast(3)), "", "abc", Self.upstream, "!!!!",
                    String(repeating: "A", count: 9000)] {
            #expect(throws: UpstreamToken.incorrect) { try UpstreamToken.unwrap(bad, bucket: "data", prefix: "", delimiter: nil) }
        }
        #expect(UpstreamToken.incorrect.wire.status == 400)
    }

    @Test func fileListingTokensAreNotUpstreamTokens() {
        let fileToken = ContinuationToken.make(position: Array("a/b".utf8), bucket: "data", prefix: "", delimiter: nil)
        #expect(throws: UpstreamToken.incorrect) { try UpstreamToken.unwrap(fileToken, bucket: "data", prefix: "", delimiter: nil) }
    }
}
