@testable import S3Protocol
@testable import Auth
import Testing
@testable import X2S3Core

/// `S3Request.parse` over the params a worker copies (`paramNames`), and its shortcuts.
@Suite struct ParamsTests {
    /// Every param x2s3 reads, plus a few it does not.
    let fullParams = [
        "REQUEST_METHOD": "get", "REQUEST_URI": "/data/a%20b.txt?list-type=2&prefix=x+y", "QUERY_STRING": "list-type=2",
        "SCRIPT_NAME": "/s", "PATH_INFO": "/p", "HTTPS": "on", "REQUEST_SCHEME": "https", "HTTP_HOST": "h:1",
        "HTTP_ACCEPT": "*/*", "HTTP_RANGE": "bytes=0-1", "HTTP_IF_MATCH": "\"a\"", "HTTP_IF_NONE_MATCH": "\"b\"",
        "HTTP_IF_MODIFIED_SINCE": "Sun, 06 Nov 1994 08:49:37 GMT", "HTTP_IF_UNMODIFIED_SINCE": "x", "HTTP_IF_RANGE": "\"c\"",
        "HTTP_ORIGIN": "o", "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "GET", "HTTP_ACCESS_CONTROL_REQUEST_HEADERS": "range",
        "HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK": "true", "HTTP_X_FORWARDED_PROTO": "http", "X2S3_OFFLOAD": "/o/",
        "SERVER_NAME": "n", "HTTP_USER_AGENT": "curl", "REMOTE_ADDR": "127.0.0.1",
    ]

    func same(_ a: S3Request, _ b: S3Request) -> Bool {
        a.method == b.method && a.rawPath == b.rawPath && a.path == b.path && a.host == b.host && a.scheme == b.scheme
            && a.headers == b.headers && a.query.elementsEqual(b.query) { $0.name == $1.name && $0.value == $1.value }
    }

    @Test func paramNamesListEveryParamParseReads() throws {
        let names = Set(S3Request.paramNames)
        for drop in [nil, "REQUEST_URI", "HTTP_X_FORWARDED_PROTO", "REQUEST_SCHEME"] {
            var p = fullParams
            if let drop { p[drop] = nil }
            let filtered = p.filter { names.contains($0.key) }
            #expect(filtered.count < p.count)
            #expect(same(try S3Request.parse(params: p), try S3Request.parse(params: filtered)))
        }
        #expect(S3Request.paramNames.count == names.count)
        // The Dispatcher's own reads (the log line, the fallback request of a parse error).
        #expect(names.isSuperset(of: ["REQUEST_URI", "REQUEST_METHOD", "HTTP_HOST"]))
    }

    @Test func parseReadsEachParamAsBefore() throws {
        let r = try S3Request.parse(params: fullParams)
        #expect(r.method == "GET" && r.path == "/data/a b.txt" && r.rawPath == "/data/a%20b.txt" && r.host == "h:1")
        #expect(r.scheme == "http")  // X-Forwarded-Proto first
        #expect(r.query.map(\.name) == ["list-type", "prefix"] && r.queryValue("prefix") == .some("x y"))
        #expect(r.headers.count == 13 && r.header("if-range") == "\"c\"" && r.header("x2s3-offload") == "/o/")
        var p = fullParams
        p["HTTP_X_FORWARDED_PROTO"] = nil
        p["REQUEST_SCHEME"] = nil
        #expect(try S3Request.parse(params: p).scheme == "https")  // HTTPS=on
        p["REQUEST_URI"] = nil
        #expect(try S3Request.parse(params: p).rawPath == "/s/p")
    }

    @Test func headerLookupIsTheDictionaryLookup() throws {
        for count in [0, 1, 4, 5, 13] {
            var p = ["REQUEST_URI": "/"]
            for (param, _) in S3Request.headerParams.prefix(count) { p[param] = param }
            let r = try S3Request.parse(params: p)
            for (_, name) in S3Request.headerParams { #expect(r.header(name) == r.headers[name]) }
        }
    }

    @Test(arguments: ["GET", "get", "Head", "OPTIONS", "", "straße", "X-CUSTOM"])
    func methodIsUpperCased(method: String) {
        #expect(S3Request.uppercasedMethod(method) == method.uppercased())
    }
}

/// The presigned parameters: out of `query` (no operation reads them), kept in `rawQuery` for the
/// verifier, which decodes them itself; and its raw-byte test for them.
@Suite struct SignatureQueryItemTests {
    static let presigned = "prefix=a%2Fb&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F20240517%2Fus-east-1%2Fs3%2Faws4_request"
        + "&x-amz-date=1&X-Amz-Date=20240517T093015Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=ab&X%2DAmz-Foo=1&list-type=2"

    @Test func parserLeavesSignatureItemsToTheVerifier() throws {
        let r = try S3Request.parse(params: ["REQUEST_URI": "/data?" + Self.presigned])
        #expect(r.query.map(\.name) == ["prefix", "x-amz-date", "X-Amz-Foo", "list-type"])
        #expect(r.query.first?.value == "a/b")
        #expect(r.rawQuery == Self.presigned[...])
        let v = SigV4Verifier.Request(method: "GET", rawPath: "/data", rawQuery: String(r.rawQuery), headers: [:])
        #expect(v.decodedQuery.map(\.name) == ["prefix", "X-Amz-Algorithm", "X-Amz-Credential", "x-amz-date", "X-Amz-Date",
                                               "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Foo", "list-type"])
        #expect(v.decodedQuery[2].value == "AK/20240517/us-east-1/s3/aws4_request")
    }

    /// The raw test says yes whenever the decoded items hold a signature parameter (a header
    /// signature is fast-tracked only on a no), and for a name that does not decode.
    @Test(arguments: [
        ("", false), ("a=1&b", false), ("X-Amz-Date=1&X-Amz-Expires=2&X-Amz-SignedHeaders=host", false), ("x-amz-signature=1", false),
        ("X-Amz-Signature", true), ("a&X-Amz-Algorithm=x", true), ("X-Amz-Credential=", true), ("AWSAccessKeyId=AK", true),
        ("X%2DAmz-Signature=1", true), ("X-Amz-Signatur%65", true), ("AWSAccess\u{212A}eyId=1", true), ("%zz=1", true),
        ("X+Amz-Signature=1", false), ("X-Amz-Signature\u{301}=1", false),
    ])
    func rawTestAgreesWithTheDecodedItems(query: String, expected: Bool) {
        #expect(SigV4Verifier.mayHaveSignatureParameters(rawQuery: Substring(query)) == expected)
        let r = SigV4Verifier.Request(method: "GET", rawPath: "/", rawQuery: query, headers: [:])
        if !expected { #expect(!SigV4Verifier.hasSignatureParameters(r.decodedQuery)) }
        if expected && query != "%zz=1" { #expect(SigV4Verifier.hasSignatureParameters(r.decodedQuery)) }
    }
}
