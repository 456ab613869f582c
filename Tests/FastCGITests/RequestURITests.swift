import Testing
@testable import FastCGI

@Suite struct RequestURITests {
    func uri(_ bytes: [UInt8]) -> String { bytes.withUnsafeBufferPointer { requestURI($0) } }

    @Test func asciiIsKeptAsIs() {
        #expect(uri(Array("/data/a%20b.txt?list-type=2&x=%FF".utf8)) == "/data/a%20b.txt?list-type=2&x=%FF")
        #expect(uri([]) == "")
    }

    @Test func validUTF8IsKeptAsIs() {
        #expect(uri(Array("/data/unicodé-日本.txt?a=%20".utf8)) == "/data/unicodé-日本.txt?a=%20")
    }

    /// Raw invalid bytes used to become U+FFFD, naming a different key (`/data/\u{FFFD}.txt`)
    /// instead of being refused; percent-encoded, the parser refuses them with 400 InvalidURI.
    @Test func invalidUTF8IsPercentEncodedNotRepaired() {
        #expect(uri(Array("/data/".utf8) + [0xFF, 0xFE] + Array(".txt".utf8)) == "/data/%FF%FE.txt")
        #expect(uri([0x2F, 0xC3, 0xA9, 0xC0, 0xAE]) == "/%C3%A9%C0%AE")
    }
}
