import Testing
@testable import x2s3

@Suite struct JSONLogLineTests {
    static func quoted(_ s: String) -> String {
        var out: [UInt8] = []
        JSONLogLine.appendString(s, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    @Test func controlCharactersAndLineSeparatorsAreFourLowerCaseHexDigits() {
        #expect(Self.quoted("\u{0}\u{1}\u{1F}\u{7F}\u{2028}\u{2029}") == "\"\\u0000\\u0001\\u001f\\u007f\\u2028\\u2029\"")
        #expect(Self.quoted("a\"b\\c\n\r\t\u{8}\u{C}é") == "\"a\\\"b\\\\c\\n\\r\\t\\b\\fé\"")
    }
}
