@testable import S3Protocol
import Testing
@testable import X2S3Core

@Suite struct ListQueryParserTests {
    func parse(_ items: [(String, String?)], _ version: ListQuery.Version = .v2) throws(S3Error) -> ListQuery {
        try ListQueryParser.parse(items.map { QueryItem(name: $0.0, value: $0.1) }, version: version)
    }

    @Test func defaultsAreAnEmptyPrefixNoDelimiterAndAThousandKeys() throws {
        let q = try parse([("list-type", "2")])
        #expect(q.prefix == "" && q.delimiter == nil && q.maxKeys == 1000 && !q.encodeURL && !q.fetchOwner)
        #expect(q.startAfter == nil && q.continuationToken == nil && q.marker == nil)
    }

    @Test(arguments: [("0", 0), ("1", 1), ("999", 999), ("1000", 1000), ("1001", 1000), ("2147483647", 1000), ("007", 7), ("-0", 0)])
    func maxKeysIsParsedAndCappedAtAThousand(text: String, expected: Int) throws {
        #expect(try parse([("max-keys", text)]).maxKeys == expected)
    }

    @Test(arguments: ["abc", "", "1.5", " 5", "+5", "0x10", "-1", "-1000", "2147483648", "99999999999999999999"])
    func badMaxKeysIsInvalidArgumentNamingMaxKeys(text: String) {
        #expect {
            try parse([("max-keys", text)])
        } throws: { error in
            guard case S3Error.invalidArgument(_, "max-keys", text) = error else { return false }
            return (error as? S3Error)?.wire.status == 400
        }
    }

    @Test func aValuelessMaxKeysIsRefused() {
        #expect(throws: S3Error.self) { try parse([("max-keys", nil)]) }
    }

    @Test func laterValuesOverrideEarlierOnes() throws {
        let q = try parse([("prefix", "a"), ("prefix", "b"), ("delimiter", "/"), ("delimiter", "-")])
        #expect(q.prefix == "b" && q.delimiter == "-")
    }

    @Test(arguments: ["URL", "Url", "", "base64", "url "])
    func encodingTypeOtherThanURLIsRefused(value: String) {
        #expect(throws: S3Error.invalidArgument("Invalid Encoding Method specified in Request",
                                                argumentName: "encoding-type", argumentValue: value)) {
            try parse([("encoding-type", value)])
        }
    }

    @Test func encodingTypeURLTurnsEncodingOn() throws {
        #expect(try parse([("encoding-type", "url")]).encodeURL)
    }

    @Test func fetchOwnerAcceptsTrueAndFalseAndRefusesTheRest() throws {
        #expect(try parse([("fetch-owner", "true")]).fetchOwner)
        #expect(try parse([("fetch-owner", "TRUE")]).fetchOwner)
        #expect(try !parse([("fetch-owner", "false")]).fetchOwner)
        #expect(throws: S3Error.self) { try parse([("fetch-owner", "yes")]) }
    }

    @Test func v2TakesStartAfterAndTokenButNotMarker() throws {
        let q = try parse([("start-after", "k"), ("continuation-token", "t"), ("marker", "m")], .v2)
        #expect(q.startAfter == "k" && q.continuationToken == "t" && q.marker == nil)
    }

    @Test func v1TakesMarkerButNotStartAfterOrToken() throws {
        let q = try parse([("start-after", "k"), ("continuation-token", "t"), ("marker", "m")], .v1)
        #expect(q.startAfter == nil && q.continuationToken == nil && q.marker == "m")
    }

    @Test func anEmptyDelimiterIsKeptAsEmpty() throws {
        #expect(try parse([("delimiter", "")]).delimiter == "")
        #expect(try parse([("delimiter", nil)]).delimiter == "")
    }
}
