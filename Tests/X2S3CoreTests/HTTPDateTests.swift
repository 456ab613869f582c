import Testing
@testable import X2S3Core

@Suite struct HTTPDateTests {
    @Test func formatsIMFFixdate() {
        #expect(HTTPDate.rfc1123(784111777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.rfc1123(0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDate.rfc1123(1_795_600_800) == "Wed, 25 Nov 2026 10:00:00 GMT")
    }

    @Test func formatsListingISO8601WithMilliseconds() {
        #expect(HTTPDate.iso8601(784111777) == "1994-11-06T08:49:37.000Z")
    }

    @Test(arguments: ["Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"])
    func parsesAllThreeHTTPDateForms(text: String) {
        #expect(HTTPDate.parse(text) == 784111777)
    }

    @Test(arguments: ["", "yesterday", "Sun, 06 Nov 1994 25:49:37 GMT", "Sun, 32 Nov 1994 08:49:37 GMT", "2026-11-25T10:00:00Z"])
    func rejectsInvalidDates(text: String) {
        #expect(HTTPDate.parse(text) == nil)
    }

    @Test func roundTripsAcrossCenturies() {
        for t: Int64 in [951_782_400, 4_107_542_400, 1_582_934_400, 253_402_300_799] {
            #expect(HTTPDate.parse(HTTPDate.rfc1123(t)) == t)
        }
    }
}
