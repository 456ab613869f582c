@testable import S3Protocol
import Testing
@testable import X2S3Core

@Suite struct JSONTests {
    @Test func parsesEveryKindOfValue() {
        let v = JSON.parse(#" {"a": [1, -2.5e3, true, false, null], "s": "x\"\\\/\n\u00e9\ud83d\ude00", "o": {}} "#)
        #expect(v?["a"] == .array([.number(1), .number(-2500), .bool(true), .bool(false), .null]))
        #expect(v?["s"]?.string == "x\"\\/\né😀")
        #expect(v?["o"] == .object([]))
        #expect(v?["missing"] == nil)
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\" 1}", "01", "1.", "-", "\"\u{01}\"", "tru", "[1] x", "{\"a\":1,}", "\"\\x\""])
    func rejectsMalformedDocuments(text: String) {
        #expect(JSON.parse(text) == nil)
    }

    @Test func deepNestingIsRefusedNotCrashed() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(JSON.parse(deep) == nil)
        let ok = String(repeating: "[", count: 10) + String(repeating: "]", count: 10)
        #expect(JSON.parse(ok) != nil)
    }

    @Test func shapesReadAsWholeNumbers() {
        #expect(JSON.parse("[1, 2, 3]")?.ints == [1, 2, 3])
        #expect(JSON.parse("[1, 2.5]")?.ints == nil)
        #expect(JSON.parse("{\"a\":1,\"a\":2}")?["a"]?.int == 2)
    }

    @Test func quoteEscapesForJSON() {
        #expect(JSON.quote("a\"b\\c\n\u{01}é") == "\"a\\\"b\\\\c\\n\\u0001é\"")
        #expect(JSON.parse(JSON.quote("q#?&<b> ☃"))?.string == "q#?&<b> ☃")
    }
}
