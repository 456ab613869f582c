import Logging
@testable import S3Protocol
@testable import Storage
import Testing
import WorkerPool
@testable import X2S3Core

/// One row of the expected error table: what a client sees of `error`, byte for byte.
struct ErrorRow: Sendable, CustomTestStringConvertible {
    let error: S3Error
    let status: Int
    let code: String
    let message: String
    /// The document between `<Error>` and `<RequestId>`, as escaped XML.
    let document: String
    /// Headers after Content-Type (and Content-Length), in order.
    let headers: [String]
    var testDescription: String { "\(error)" }

    init(_ error: S3Error, _ status: Int, _ code: String, _ message: String, _ document: String, headers: [String] = []) {
        self.error = error
        self.status = status
        self.code = code
        self.message = message
        self.document = document
        self.headers = headers
    }
}

/// The error table (`S3Error.wire`) and its two readers, `S3XML.error` and
/// `Dispatcher.errorResponse`: status line, headers and document of every case.
@Suite struct S3ErrorTests {
    static let resource = "/bkt/a&b"
    static let res = "<Resource>/bkt/a&amp;b</Resource>"
    static let cors = "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec."

    static let corsEscaped = "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource&apos;s CORS spec."

    static let rows: [ErrorRow] = [
        ErrorRow(.noSuchKey(key: "a/b&<c>.txt"), 404, "NoSuchKey", "The specified key does not exist.",
                 "<Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>a/b&amp;&lt;c&gt;.txt</Key>" + res),
        ErrorRow(.noSuchBucket(bucket: "nope\"'"), 404, "NoSuchBucket", "The specified bucket does not exist",
                 "<Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message><BucketName>nope&quot;&apos;</BucketName>" + res),
        ErrorRow(.accessDenied, 403, "AccessDenied", "Access Denied",
                 "<Code>AccessDenied</Code><Message>Access Denied</Message>" + res),
        ErrorRow(.invalidArgument("m <0>"), 400, "InvalidArgument", "m <0>",
                 "<Code>InvalidArgument</Code><Message>m &lt;0&gt;</Message>" + res),
        ErrorRow(.invalidArgument("m", argumentName: "max-keys"), 400, "InvalidArgument", "m",
                 "<Code>InvalidArgument</Code><Message>m</Message><ArgumentName>max-keys</ArgumentName>" + res),
        ErrorRow(.invalidArgument("m", argumentName: "max-keys", argumentValue: "x&y"), 400, "InvalidArgument", "m",
                 "<Code>InvalidArgument</Code><Message>m</Message><ArgumentName>max-keys</ArgumentName><ArgumentValue>x&amp;y</ArgumentValue>" + res),
        // A value is only shown with the name it belongs to.
        ErrorRow(.invalidArgument("m", argumentName: nil, argumentValue: "v"), 400, "InvalidArgument", "m",
                 "<Code>InvalidArgument</Code><Message>m</Message>" + res),
        ErrorRow(.invalidURI("Couldn't parse the specified URI."), 400, "InvalidURI", "Couldn't parse the specified URI.",
                 "<Code>InvalidURI</Code><Message>Couldn&apos;t parse the specified URI.</Message>" + res),
        ErrorRow(.keyTooLong, 400, "KeyTooLongError", "Your key is too long",
                 "<Code>KeyTooLongError</Code><Message>Your key is too long</Message>" + res),
        // S3's InvalidRange names no Resource.
        ErrorRow(.invalidRange(size: 11, range: "bytes=20-"), 416, "InvalidRange", "The requested range is not satisfiable",
                 "<Code>InvalidRange</Code><Message>The requested range is not satisfiable</Message><RangeRequested>bytes=20-</RangeRequested><ActualObjectSize>11</ActualObjectSize>",
                 headers: ["Content-Range: bytes */11"]),
        ErrorRow(.invalidRange(size: 0), 416, "InvalidRange", "The requested range is not satisfiable",
                 "<Code>InvalidRange</Code><Message>The requested range is not satisfiable</Message><RangeRequested></RangeRequested><ActualObjectSize>0</ActualObjectSize>",
                 headers: ["Content-Range: bytes */0"]),
        ErrorRow(.preconditionFailed(condition: "If-Match"), 412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold",
                 "<Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message><Condition>If-Match</Condition>" + res),
        ErrorRow(.methodNotAllowed(method: "PUT"), 405, "MethodNotAllowed", "The specified method is not allowed against this resource.",
                 "<Code>MethodNotAllowed</Code><Message>The specified method is not allowed against this resource.</Message><Method>PUT</Method><ResourceType>OBJECT</ResourceType>" + res,
                 headers: ["Allow: GET, HEAD, OPTIONS"]),
        ErrorRow(.corsForbidden, 403, "AccessForbidden", cors,
                 "<Code>AccessForbidden</Code><Message>\(corsEscaped)</Message>" + res),
        ErrorRow(.notImplemented("No (versioning)."), 501, "NotImplemented", "No (versioning).",
                 "<Code>NotImplemented</Code><Message>No (versioning).</Message>" + res),
        ErrorRow(.badRequest("Origin needed."), 400, "BadRequest", "Origin needed.",
                 "<Code>BadRequest</Code><Message>Origin needed.</Message>" + res),
        ErrorRow(.internalError("boom"), 500, "InternalError", "boom",
                 "<Code>InternalError</Code><Message>boom</Message>" + res),
        ErrorRow(.serviceUnavailable("Not now."), 503, "ServiceUnavailable", "Not now.",
                 "<Code>ServiceUnavailable</Code><Message>Not now.</Message>" + res, headers: ["Retry-After: 1"]),
        ErrorRow(.slowDown("Please reduce your request rate."), 503, "SlowDown", "Please reduce your request rate.",
                 "<Code>SlowDown</Code><Message>Please reduce your request rate.</Message>" + res, headers: ["Retry-After: 1"]),
        ErrorRow(.gatewayTimeout("Timed out."), 504, "GatewayTimeout", "Timed out.",
                 "<Code>GatewayTimeout</Code><Message>Timed out.</Message>" + res),
        ErrorRow(.badGateway("Bad."), 502, "BadGateway", "Bad.",
                 "<Code>BadGateway</Code><Message>Bad.</Message>" + res),
        // An upstream's error passes through as it came, escaped; a 503 of its own gets no Retry-After.
        ErrorRow(.upstream(status: 409, code: "Weird<>", message: "m&m"), 409, "Weird<>", "m&m",
                 "<Code>Weird&lt;&gt;</Code><Message>m&amp;m</Message>" + res),
        ErrorRow(.upstream(status: 503, code: "ServiceUnavailable", message: "Busy"), 503, "ServiceUnavailable", "Busy",
                 "<Code>ServiceUnavailable</Code><Message>Busy</Message>" + res),
        // The detail is the log's: the client sees the wrapped error exactly.
        ErrorRow(.detailed(.serviceUnavailable("Not now."), detail: "upstream: SSL certificate problem"), 503, "ServiceUnavailable", "Not now.",
                 "<Code>ServiceUnavailable</Code><Message>Not now.</Message>" + res, headers: ["Retry-After: 1"]),
        // The authentication errors name no Resource, as S3's do.
        ErrorRow(.invalidAccessKeyId(accessKey: "AK<1>"), 403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.",
                 "<Code>InvalidAccessKeyId</Code><Message>The AWS Access Key Id you provided does not exist in our records.</Message><AWSAccessKeyId>AK&lt;1&gt;</AWSAccessKeyId>"),
        ErrorRow(.signatureDoesNotMatch(.init(accessKey: "AK", stringToSign: "A\nb", signatureProvided: "ab", canonicalRequest: "G&")),
                 403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
                 "<Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the signature you provided. Check your key and signing method.</Message><AWSAccessKeyId>AK</AWSAccessKeyId><StringToSign>A\nb</StringToSign><SignatureProvided>ab</SignatureProvided><StringToSignBytes>41 0a 62</StringToSignBytes><CanonicalRequest>G&amp;</CanonicalRequest><CanonicalRequestBytes>47 26</CanonicalRequestBytes>"),
        ErrorRow(.accessDeniedBecause("There were headers present in the request which were not signed", fields: [.init("HeadersNotSigned", "host")]),
                 403, "AccessDenied", "There were headers present in the request which were not signed",
                 "<Code>AccessDenied</Code><Message>There were headers present in the request which were not signed</Message><HeadersNotSigned>host</HeadersNotSigned>"),
        ErrorRow(.requestExpired(expires: "600", expiredAt: 1_700_000_600, serverTime: 1_700_000_601), 403, "AccessDenied", "Request has expired",
                 "<Code>AccessDenied</Code><Message>Request has expired</Message><X-Amz-Expires>600</X-Amz-Expires><Expires>2023-11-14T22:23:20Z</Expires><ServerTime>2023-11-14T22:23:21Z</ServerTime>"),
        ErrorRow(.requestTimeTooSkewed(requestTime: "20231114T000000Z", serverTime: 1_700_000_000, maxSkewMilliseconds: 900_000), 403,
                 "RequestTimeTooSkewed", "The difference between the request time and the current time is too large.",
                 "<Code>RequestTimeTooSkewed</Code><Message>The difference between the request time and the current time is too large.</Message><RequestTime>20231114T000000Z</RequestTime><ServerTime>2023-11-14T22:13:20Z</ServerTime><MaxAllowedSkewMilliseconds>900000</MaxAllowedSkewMilliseconds>"),
        ErrorRow(.authorizationHeaderMalformed("bad", region: "eu-west-1"), 400, "AuthorizationHeaderMalformed", "bad",
                 "<Code>AuthorizationHeaderMalformed</Code><Message>bad</Message><Region>eu-west-1</Region>"),
        ErrorRow(.authorizationQueryParametersError("bad"), 400, "AuthorizationQueryParametersError", "bad",
                 "<Code>AuthorizationQueryParametersError</Code><Message>bad</Message>"),
        ErrorRow(.invalidRequest("bad"), 400, "InvalidRequest", "bad", "<Code>InvalidRequest</Code><Message>bad</Message>"),
        // Likewise an upstream failure's cause: logged and counted, never shown.
        ErrorRow(.upstreamFailure(.gatewayTimeout("Late."), cause: .timeout, detail: "upstream: timed out"), 504, "GatewayTimeout", "Late.",
                 "<Code>GatewayTimeout</Code><Message>Late.</Message>" + res),
    ]

    /// The case's name, by an exhaustive switch: a new case does not compile until it is
    /// named here, and `everyCaseHasARow` then fails until `rows` has one.
    static func caseName(_ e: S3Error) -> String {
        switch e {
        case .noSuchKey: "noSuchKey"
        case .noSuchBucket: "noSuchBucket"
        case .accessDenied: "accessDenied"
        case .invalidArgument: "invalidArgument"
        case .invalidURI: "invalidURI"
        case .keyTooLong: "keyTooLong"
        case .invalidRange: "invalidRange"
        case .preconditionFailed: "preconditionFailed"
        case .methodNotAllowed: "methodNotAllowed"
        case .corsForbidden: "corsForbidden"
        case .notImplemented: "notImplemented"
        case .badRequest: "badRequest"
        case .internalError: "internalError"
        case .serviceUnavailable: "serviceUnavailable"
        case .slowDown: "slowDown"
        case .gatewayTimeout: "gatewayTimeout"
        case .badGateway: "badGateway"
        case .upstream: "upstream"
        case .detailed: "detailed"
        case .invalidAccessKeyId: "invalidAccessKeyId"
        case .signatureDoesNotMatch: "signatureDoesNotMatch"
        case .accessDeniedBecause: "accessDeniedBecause"
        case .requestExpired: "requestExpired"
        case .requestTimeTooSkewed: "requestTimeTooSkewed"
        case .authorizationHeaderMalformed: "authorizationHeaderMalformed"
        case .authorizationQueryParametersError: "authorizationQueryParametersError"
        case .invalidRequest: "invalidRequest"
        case .upstreamFailure: "upstreamFailure"
        }
    }

    static let allCaseNames: Set<String> = [
        "noSuchKey", "noSuchBucket", "accessDenied", "invalidArgument", "invalidURI", "invalidRange", "keyTooLong",
        "preconditionFailed", "methodNotAllowed", "corsForbidden", "notImplemented", "badRequest",
        "internalError", "serviceUnavailable", "slowDown", "gatewayTimeout", "badGateway", "upstream", "detailed",
        "invalidAccessKeyId", "signatureDoesNotMatch", "accessDeniedBecause", "requestExpired", "requestTimeTooSkewed",
        "authorizationHeaderMalformed", "authorizationQueryParametersError", "invalidRequest",
        "upstreamFailure",
    ]

    @Test func everyCaseHasARow() {
        #expect(Set(Self.rows.map { Self.caseName($0.error) }) == Self.allCaseNames)
    }

    /// A code no case writes is dead; `UpstreamError` is written through `.upstream`.
    @Test func everyCodeIsWrittenBySomeCase() {
        let written = Set(Self.rows.map(\.code))
        for code in S3Error.Code.allCases where code != .upstreamError {
            #expect(written.contains(code.rawValue), "\(code)")
        }
    }

    func response(_ e: S3Error, isHead: Bool) -> RecordingSink {
        let d = Dispatcher(config: Config(), logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let r = d.errorResponse(e, resource: Self.resource, requestID: "REQ0123456789ABC", isHead: isHead)
        var body = ResponseWriter(sink: RecordingSink()).writeHead(r.head)
        if !isHead, case .bytes(let bytes) = r.body { body.write(bytes) }
        return body.finish()
    }

    @Test(arguments: rows)
    func theTableSaysWhatTheClientSees(row: ErrorRow) {
        let w = row.error.wire
        #expect(w.status == row.status && w.code == row.code && w.message == row.message)
        #expect(w.headers.map { "\($0.name): \($0.value)" } == row.headers)
    }

    @Test(arguments: rows)
    func getGetsTheDocumentAndTheHeaders(row: ErrorRow) {
        let r = response(row.error, isHead: false)
        let document = S3XML.declaration + "<Error>" + row.document
            + "<RequestId>REQ0123456789ABC</RequestId><HostId>REQ0123456789ABC</HostId></Error>"
        #expect(r.status == row.status)
        #expect(r.bodyText == document)
        #expect(r.parsed.headers.map { "\($0.0): \($0.1)" }
            == ["Content-Type: application/xml", "Content-Length: \(document.utf8.count)"] + row.headers)
        #expect(S3XML.error(row.error.wire, resource: Self.resource, requestID: "REQ0123456789ABC") == document)
    }

    @Test(arguments: rows)
    func headGetsTheSameHeadWithoutABody(row: ErrorRow) {
        let r = response(row.error, isHead: true)
        #expect(r.status == row.status && r.parsed.body.isEmpty)
        #expect(r.parsed.headers.map { "\($0.0): \($0.1)" } == ["Content-Type: application/xml"] + row.headers)
    }

    @Test func theStatusLineCarriesTheReason() {
        let r = response(.invalidRange(size: 3), isHead: false)
        #expect(String(decoding: r.bytes.prefix(40), as: UTF8.self).hasPrefix("Status: 416 Range Not Satisfiable\r\n"))
    }

    @Test func aRefusedPreflightIsAccessForbidden() {
        var c = Config()
        c.targets = [Target(name: "mem", browseable: true, kind: .file(FileOptions(path: "/nonexistent")))]
        var d = Dispatcher(config: c, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        var sink = RecordingSink()
        d.handle(params: params("/mem/a.txt", method: "OPTIONS", headers: [
            "HTTP_ORIGIN": "https://viewer.example", "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "PUT",
        ]), sink: &sink)
        #expect(sink.status == 403 && sink.bodyText.contains("<Code>AccessForbidden</Code>"))
        #expect(sink.header("Access-Control-Allow-Origin") == "*")
    }
}
