@testable import S3Protocol
import Testing
@testable import X2S3Core

@Suite struct ContinuationTokenTests {
    let position = Array("dir/sub/caf\u{E9} +x.txt".utf8)

    @Test func aTokenRoundTripsToItsPosition() throws {
        let t = ContinuationToken.make(position: position, bucket: "data", prefix: "dir/", delimiter: "/")
        #expect(try ContinuationToken.position(of: t, bucket: "data", prefix: "dir/", delimiter: "/") == position)
    }

    @Test func tokensUseOnlyURLSafeCharacters() {
        let t = ContinuationToken.make(position: Array((0..<200).map { UInt8(0x20 + $0 % 90) }), bucket: "b", prefix: "", delimiter: nil)
        #expect(URLEncoding.uriEncode(t) == t)
    }

    @Test func theBucketNameBindsCaseInsensitively() throws {
        let t = ContinuationToken.make(position: position, bucket: "Data", prefix: "", delimiter: nil)
        #expect(try ContinuationToken.position(of: t, bucket: "data", prefix: "", delimiter: nil) == position)
    }

    @Test(arguments: [
        ("other", "dir/", "/"),
        ("data", "dir", "/"),
        ("data", "dir/", "-"),
        ("data", "dir/", nil),
    ] as [(String, String, String?)])
    func aTokenFromAnotherListingIsRefused(bucket: String, prefix: String, delimiter: String?) {
        let t = ContinuationToken.make(position: position, bucket: "data", prefix: "dir/", delimiter: "/")
        #expect(throws: ContinuationToken.incorrect) {
            try ContinuationToken.position(of: t, bucket: bucket, prefix: prefix, delimiter: delimiter)
        }
    }

    @Test func forgedTruncatedEditedAndEmptyTokensAreRefusedWithS3sError() {
        let good = ContinuationToken.make(position: position, bucket: "data", prefix: "", delimiter: nil)
        var edited = Array(good.utf8)
        edited[3] = edited[3] == 0x41 ? 0x42 : 0x41
        let candidates = [
            "", "dir/sub/x.txt", "AAAA", String(good.dropLast(2)), String(good.dropFirst()),
            String(decoding: edited, as: UTF8.self), good + "A", good + "=", "!!!!",
            String(repeating: "A", count: 10_000),
        ]
        for c in candidates {
            #expect(throws: ContinuationToken.incorrect) {
                try ContinuationToken.position(of: c, bucket: "data", prefix: "", delimiter: nil)
            }
        }
        #expect(ContinuationToken.incorrect == .invalidArgument("The continuation token provided is incorrect",
                                                                 argumentName: "continuation-token"))
    }

    @Test func base64URLRoundTripsEveryLength() {
        for n in 0..<40 {
            let bytes = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            #expect(Base64URL.decode(Base64URL.encode(bytes)) == bytes)
        }
        #expect(Base64URL.decode("AB") == nil) // non-zero leftover bits
        #expect(Base64URL.decode("A") == nil)
    }
}
