public import WorkerPool

/// Every error x2s3 answers with. `wire` is the one table of what a client sees of each:
/// status, S3 code, message, the document's extra fields and the response's extra headers.
/// Renderers only read it (`S3XML.error` for the document, `Dispatcher.errorResponse` for the
/// response), so a new error is a case here and a row in `wire`, and a new rendering of
/// errors is a function of `Wire`. No S3 error code is spelt anywhere else in Sources/.
public enum S3Error: Error, Equatable, Sendable {
    case noSuchKey(key: String)
    case noSuchBucket(bucket: String)
    case accessDenied
    case invalidArgument(String, argumentName: String? = nil, argumentValue: String? = nil)
    case invalidURI(String)
    /// A key longer than S3's 1,024 UTF-8 bytes.
    case keyTooLong
    /// `range`: the Range header as the client sent it (echoed as `RangeRequested`).
    case invalidRange(size: UInt64, range: String = "")
    case preconditionFailed(condition: String)
    case methodNotAllowed(method: String)
    /// A CORS preflight asking for a method x2s3 does not serve.
    case corsForbidden
    case notImplemented(String)
    case badRequest(String)
    case internalError(String)
    case serviceUnavailable(String)
    case slowDown(String)
    case gatewayTimeout(String)
    case badGateway(String)
    /// An upstream S3 error passed through with its own status, code and message.
    case upstream(status: Int, code: String, message: String)
    /// A signed request naming an access key the config does not list.
    case invalidAccessKeyId(accessKey: String)
    /// A signature that does not verify; the fields are what S3 returns to help debugging.
    case signatureDoesNotMatch(SignatureMismatch)
    /// AccessDenied with S3's message for the cause (`Access Denied` is `.accessDenied`).
    case accessDeniedBecause(String, fields: [Field] = [])
    /// A presigned URL past its expiry: `expires` is X-Amz-Expires as sent.
    case requestExpired(expires: String, expiredAt: Int64, serverTime: Int64)
    /// A request date (`requestTime` as sent) too far from the server's clock.
    case requestTimeTooSkewed(requestTime: String, serverTime: Int64, maxSkewMilliseconds: Int64)
    case authorizationHeaderMalformed(String, region: String? = nil)
    case authorizationQueryParametersError(String)
    case invalidRequest(String)
    /// `error` as the client sees it, plus a detail for the request's log line only (libcurl's
    /// text of a transport failure: addresses and certificate problems are the operator's).
    indirect case detailed(S3Error, detail: String)
    /// `error` as the client sees it, caused by a failed upstream exchange: the request's log
    /// line is a warning naming `cause` (and `detail`), and the failure is counted
    /// (`x2s3_upstream_errors_total`).
    indirect case upstreamFailure(S3Error, cause: PoolStats.UpstreamCause, detail: String)

    /// What the log line of a request answered with this error adds to its message.
    public var logDetail: String? {
        switch self {
        case .detailed(_, let detail): return detail
        case .upstreamFailure(_, _, let detail): return detail.isEmpty ? nil : detail
        default: return nil
        }
    }

    /// Why the upstream failed, when an upstream failure is what this error reports.
    public var upstreamCause: PoolStats.UpstreamCause? {
        if case .upstreamFailure(_, let cause, _) = self { return cause }
        return nil
    }

    /// The S3 error codes x2s3 writes, or recognises in an upstream's error document.
    public enum Code: String, Sendable, CaseIterable {
        case noSuchKey = "NoSuchKey"
        case noSuchBucket = "NoSuchBucket"
        case accessDenied = "AccessDenied"
        case invalidArgument = "InvalidArgument"
        case invalidURI = "InvalidURI"
        case keyTooLongError = "KeyTooLongError"
        case invalidRange = "InvalidRange"
        case preconditionFailed = "PreconditionFailed"
        case methodNotAllowed = "MethodNotAllowed"
        case accessForbidden = "AccessForbidden"
        case notImplemented = "NotImplemented"
        case badRequest = "BadRequest"
        case internalError = "InternalError"
        case serviceUnavailable = "ServiceUnavailable"
        case slowDown = "SlowDown"
        case gatewayTimeout = "GatewayTimeout"
        case badGateway = "BadGateway"
        /// What an upstream error without a code of its own is passed through as, below 500
        /// (from 500 on it is `InternalError`).
        case upstreamError = "UpstreamError"
        case invalidAccessKeyId = "InvalidAccessKeyId"
        case signatureDoesNotMatch = "SignatureDoesNotMatch"
        case requestTimeTooSkewed = "RequestTimeTooSkewed"
        case authorizationHeaderMalformed = "AuthorizationHeaderMalformed"
        case authorizationQueryParametersError = "AuthorizationQueryParametersError"
        case invalidRequest = "InvalidRequest"
    }

    /// One name and value: an element of the error document, or a response header.
    public struct Field: Equatable, Sendable {
        public let name: String
        public let value: String

        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    /// Everything a client sees of one error, whatever it is rendered as.
    public struct Wire: Equatable, Sendable {
        public let status: Int
        public let code: String
        public let message: String
        /// The document's elements after `Message`, in AWS's order. Names are XML names.
        public let fields: [Field]
        /// Whether the document names the request path (`Resource`): S3's InvalidRange does not.
        public let namesResource: Bool
        /// Headers the response carries for this error, after Content-Type and Content-Length.
        public let headers: [Field]

        init(_ status: Int, _ code: String, _ message: String, fields: [Field] = [], namesResource: Bool = true, headers: [Field] = []) {
            self.status = status
            self.code = code
            self.message = message
            self.fields = fields
            self.namesResource = namesResource
            self.headers = headers
        }

        init(_ status: Int, _ code: Code, _ message: String, fields: [Field] = [], namesResource: Bool = true, headers: [Field] = []) {
            self.init(status, code.rawValue, message, fields: fields, namesResource: namesResource, headers: headers)
        }
    }

    /// What the client is told to wait before retrying a 503.
    static let retryAfter = Field("Retry-After", "1")

    /// The error table.
    public var wire: Wire {
        switch self {
        case .noSuchKey(let key):
            return Wire(404, .noSuchKey, "The specified key does not exist.", fields: [Field("Key", key)])
        case .noSuchBucket(let bucket):
            return Wire(404, .noSuchBucket, "The specified bucket does not exist", fields: [Field("BucketName", bucket)])
        case .accessDenied:
            return Wire(403, .accessDenied, "Access Denied")
        case .invalidArgument(let message, let name, let value):
            var fields: [Field] = []
            if let name {
                fields.append(Field("ArgumentName", name))
                if let value { fields.append(Field("ArgumentValue", value)) }
            }
            return Wire(400, .invalidArgument, message, fields: fields)
        case .invalidURI(let message):
            return Wire(400, .invalidURI, message)
        case .keyTooLong:
            return Wire(400, .keyTooLongError, "Your key is too long")
        case .invalidRange(let size, let range):
            return Wire(416, .invalidRange, "The requested range is not satisfiable",
                        fields: [Field("RangeRequested", range), Field("ActualObjectSize", String(size))],
                        namesResource: false, headers: [Field("Content-Range", "bytes */\(size)")])
        case .preconditionFailed(let condition):
            return Wire(412, .preconditionFailed, "At least one of the pre-conditions you specified did not hold",
                        fields: [Field("Condition", condition)])
        case .methodNotAllowed(let method):
            return Wire(405, .methodNotAllowed, "The specified method is not allowed against this resource.",
                        fields: [Field("Method", method), Field("ResourceType", "OBJECT")],
                        headers: [Field("Allow", "GET, HEAD, OPTIONS")])
        case .corsForbidden:
            // S3's own wording, misspelling included: clients may match on it.
            return Wire(403, .accessForbidden, "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.")
        case .notImplemented(let message):
            return Wire(501, .notImplemented, message)
        case .badRequest(let message):
            return Wire(400, .badRequest, message)
        case .internalError(let message):
            return Wire(500, .internalError, message)
        case .serviceUnavailable(let message):
            return Wire(503, .serviceUnavailable, message, headers: [Self.retryAfter])
        case .slowDown(let message):
            return Wire(503, .slowDown, message, headers: [Self.retryAfter])
        case .gatewayTimeout(let message):
            return Wire(504, .gatewayTimeout, message)
        case .badGateway(let message):
            return Wire(502, .badGateway, message)
        case .upstream(let status, let code, let message):
            return Wire(status, code, message)
        case .detailed(let error, _), .upstreamFailure(let error, _, _):
            return error.wire
        case .invalidAccessKeyId(let accessKey):
            return Wire(403, .invalidAccessKeyId, "The AWS Access Key Id you provided does not exist in our records.",
                        fields: [Field("AWSAccessKeyId", accessKey)], namesResource: false)
        case .signatureDoesNotMatch(let m):
            return Wire(403, .signatureDoesNotMatch,
                        "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
                        fields: [Field("AWSAccessKeyId", m.accessKey), Field("StringToSign", m.stringToSign),
                                 Field("SignatureProvided", m.signatureProvided),
                                 Field("StringToSignBytes", SignatureMismatch.spacedHex(m.stringToSign)),
                                 Field("CanonicalRequest", m.canonicalRequest),
                                 Field("CanonicalRequestBytes", SignatureMismatch.spacedHex(m.canonicalRequest))],
                        namesResource: false)
        case .accessDeniedBecause(let message, let fields):
            return Wire(403, .accessDenied, message, fields: fields, namesResource: false)
        case .requestExpired(let expires, let expiredAt, let serverTime):
            return Wire(403, .accessDenied, "Request has expired",
                        fields: [Field("X-Amz-Expires", expires), Field("Expires", Self.isoSeconds(expiredAt)),
                                 Field("ServerTime", Self.isoSeconds(serverTime))], namesResource: false)
        case .requestTimeTooSkewed(let requestTime, let serverTime, let maxSkew):
            return Wire(403, .requestTimeTooSkewed, "The difference between the request time and the current time is too large.",
                        fields: [Field("RequestTime", requestTime), Field("ServerTime", Self.isoSeconds(serverTime)),
                                 Field("MaxAllowedSkewMilliseconds", String(maxSkew))], namesResource: false)
        case .authorizationHeaderMalformed(let message, let region):
            return Wire(400, .authorizationHeaderMalformed, message, fields: region.map { [Field("Region", $0)] } ?? [],
                        namesResource: false)
        case .authorizationQueryParametersError(let message):
            return Wire(400, .authorizationQueryParametersError, message, namesResource: false)
        case .invalidRequest(let message):
            return Wire(400, .invalidRequest, message, namesResource: false)
        }
    }
}

extension S3Error {
    /// What SignatureDoesNotMatch tells the client: the strings x2s3 computed, so the client can
    /// diff them against its own.
    public struct SignatureMismatch: Equatable, Sendable {
        public let accessKey: String
        public let stringToSign: String
        public let signatureProvided: String
        public let canonicalRequest: String

        public init(accessKey: String, stringToSign: String, signatureProvided: String, canonicalRequest: String) {
            self.accessKey = accessKey
            self.stringToSign = stringToSign
            self.signatureProvided = signatureProvided
            self.canonicalRequest = canonicalRequest
        }

        /// S3's `…Bytes` fields: each UTF-8 byte as two lower-case hex digits, space-separated.
        static func spacedHex(_ text: String) -> String {
            let digits = Array("0123456789abcdef".utf8)
            var out: [UInt8] = []
            out.reserveCapacity(text.utf8.count * 3)
            for b in text.utf8 {
                if !out.isEmpty { out.append(UInt8(ascii: " ")) }
                out += [digits[Int(b >> 4)], digits[Int(b & 0xF)]]
            }
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// `2026-12-06T07:45:56Z`: the times in S3's authentication errors carry no milliseconds.
    package static func isoSeconds(_ t: Int64) -> String {
        let full = HTTPDate.iso8601(t)
        return full.hasSuffix(".000Z") ? String(full.dropLast(5)) + "Z" : full
    }
}
