@testable import S3Protocol
import Testing
@testable import X2S3Core

@Suite struct URLEncodingTests {
    @Test(arguments: [
        ("plain/key-1_2.3~x", "plain/key-1_2.3~x"),
        ("a b", "a+b"),
        ("a+b", "a%2Bb"),
        ("100%", "100%25"),
        ("q#?&<b>.txt", "q%23%3F%26%3Cb%3E.txt"),
        ("caf\u{E9}", "caf%C3%A9"),
        ("tab\there", "tab%09here"),
        ("\u{1}", "%01"),
        ("", ""),
    ])
    func listValuesKeepUnreservedAndSlashAndEncodeTheRestLikeS3(raw: String, encoded: String) {
        #expect(URLEncoding.listValue(raw) == encoded)
    }

    @Test func listValuesRoundTripThroughFormDecoding() {
        let raw = "dir/a b+c%d&e=f/\u{1F600}\u{7F}"
        #expect(percentDecode(URLEncoding.listValue(raw), plusIsSpace: true) == raw)
    }

    @Test func sigV4EncodingUsesPercent20AndEncodesSlashUnlessAskedNotTo() {
        #expect(URLEncoding.uriEncode("a b/c") == "a%20b%2Fc")
        #expect(URLEncoding.uriEncode("a b/c", encodeSlash: false) == "a%20b/c")
        #expect(URLEncoding.uriEncode("~._-") == "~._-")
    }
}
