@testable import S3Protocol
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

    /// Found by the `conditional` fuzz target: tmpfs lets a file carry any Int64 mtime, and
    /// formatting Int64.min trapped (arithmetic overflow), crashing the worker on every GET.
    @Test(arguments: [Int64.min, Int64.min + 86399, -11_644_473_601, Int64.max, 253_402_300_800])
    func extremeModificationTimesClampToFourDigitYears(t: Int64) {
        let http = HTTPDate.rfc1123(t), iso = HTTPDate.iso8601(t)
        #expect(HTTPDate.parse(http) != nil, "\(http) is not an HTTP-date")
        #expect(iso.count == "9999-12-31T23:59:59.000Z".count)
        #expect(http == (t < 0 ? "Mon, 01 Jan 1601 00:00:00 GMT" : "Fri, 31 Dec 9999 23:59:59 GMT"))
    }
}
