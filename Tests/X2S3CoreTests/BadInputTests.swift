@testable import S3Protocol
@testable import Storage
import Testing
@testable import X2S3Core

/// The pure half of the bad-input catalogue (Tests/integration/test_bad_input.py has the
/// wire half): malformed input is a 4xx S3 error or is ignored, never a trap or a 500.
@Suite struct BadInputTests {
    func parse(_ uri: String, method: String = "GET") -> Result<S3Request, S3Error> {
        Result { () throws(S3Error) in try S3Request.parse(params: ["REQUEST_METHOD": method, "REQUEST_URI": uri]) }
    }

    func errorCode(_ uri: String) -> String? {
        if case .failure(let e) = parse(uri) { return e.wire.code }
        return nil
    }

    @Test(arguments: ["/data/" + String(repeating: "a", count: 9000), "/data?prefix=" + String(repeating: "x", count: 8200)])
    func overlongURIIsInvalidURI(uri: String) {
        #expect(errorCode(uri) == "InvalidURI")
    }

    @Test(arguments: ["/data/%zz", "/data/%4", "/data/a%", "/data/%ff%fe", "/data/%c0%ae", "/data/%ed%a0%80",
                      "/data/%e0%80%ae", "/data/a%00b", "/data/%F0%9F%98"])
    func badPercentEncodingOrUTF8InThePathIsInvalidURI(uri: String) {
        #expect(errorCode(uri) == "InvalidURI")
    }

    // The parser leaves `X-Amz-*` items out of `query` without decoding them, but still checks them.
    @Test(arguments: ["/data?prefix=%zz", "/data?%g0=1", "/data?prefix=%ff", "/data?delimiter=%c0%af",
                      "/data?X-Amz-Date=%zz", "/data?X-Amz-Date%g0=1", "/data?X-Amz-Credential=%ff", "/data?X-Amz-Signature=a%c0%af",
                      "/data?X-Amz-Expires=%4"])
    func badEncodingInTheQueryIsInvalidArgument(uri: String) {
        #expect(errorCode(uri) == "InvalidArgument")
    }

    @Test(arguments: ["bytes=abc", "bytes=5-2", "bytes=0-1,4-5", "bytes=0-1,", "pages=1-2", "bytes=", "bytes=-",
                      "bytes=--1", "bytes=1-2-3", "bytes=0x1-0x2", "bytes=+1-2", "bytes=1--2",
                      "bytes=99999999999999999999-", "bytes=-99999999999999999999", "bytes 0-1", "=0-1",
                      "bytes=1.0-2", "bytes=١-٢", "bytes=½-1", ""])
    func malformedRangeIsIgnored(header: String) {
        #expect(ByteRangeRequest(header: header) == nil)
    }

    @Test(arguments: ["yesterday", "", "0", "-1", "Sun, 06 Nov 1994 25:49:37 GMT", "Sun, 06 Nov 99999 08:49:37 GMT",
                      "Sun, 06 Nov 1500 08:49:37 GMT", "2026-11-25T10:00:00Z", "Sun, 06 Nov 1994 08:49:37 PST",
                      "Sun, 06 Zzz 1994 08:49:37 GMT", "Sun, 99999999999999999999 Nov 1994 08:49:37 GMT",
                      "Sunday, 06-Nov-99999999999999999999 08:49:37 GMT", "Sun Nov -6 08:49:37 1994"])
    func malformedDateIsIgnored(text: String) {
        #expect(HTTPDate.parse(text) == nil)
        let outcome = Preconditions.evaluate(headers: ["if-modified-since": text, "if-unmodified-since": text],
                                             etag: "\"e\"", lastModified: 784_111_777)
        #expect(outcome == .proceed(honourRange: true))
    }

    @Test(arguments: ["-1", "ten", "", "1.5", "99999999999999999999999", " 5", "0x10", "+-1"])
    func badMaxKeysIsInvalidArgument(value: String) {
        var thrown: S3Error?
        do {
            _ = try ListQueryParser.parse([QueryItem(name: "max-keys", value: value)], version: .v2)
        } catch {
            thrown = error
        }
        #expect(thrown?.wire.code == "InvalidArgument")
    }

    @Test func maxKeysAboveAThousandIsCapped() throws {
        #expect(try ListQueryParser.parse([QueryItem(name: "max-keys", value: "5000")], version: .v2).maxKeys == 1000)
    }

    func route(_ uri: String, method: String = "GET") -> Route {
        var config = Config()
        config.targets = [Target(name: "data", kind: .file(FileOptions(path: "/tmp")))]
        return Router.route(try! S3Request.parse(params: ["REQUEST_METHOD": method, "REQUEST_URI": uri]), config: config).route
    }

    @Test(arguments: ["1", "3", "", "two", "2 ", "02"])
    func listTypeOtherThanTwoIsInvalidArgument(value: String) {
        guard case .error(let e) = route("/data?list-type=" + value) else { Issue.record("not an error"); return }
        #expect(e.wire.code == "InvalidArgument")
    }

    @Test(arguments: ["PROPFIND", "MKCOL", "LOCK", "TRACE", "CONNECT", "PUT", "DELETE"])
    func unknownOrWriteMethodsAre405(method: String) {
        guard case .error(let e) = route("/data/a.txt", method: method) else { Issue.record("not an error"); return }
        #expect(e.wire.status == 405 && e.wire.code == "MethodNotAllowed")
    }

    @Test(arguments: ["versioning", "uploads", "tagging", "policy", "cors", "website", "lifecycle", "versionId=1", "partNumber=2"])
    func unsupportedSubresourcesAre501NotListings(sub: String) {
        for uri in ["/data?" + sub, "/data/a.txt?" + sub] {
            guard case .error(let e) = route(uri) else { Issue.record("\(uri) is not an error"); continue }
            #expect(e.wire.status == 501 && e.wire.code == "NotImplemented")
        }
    }
}
