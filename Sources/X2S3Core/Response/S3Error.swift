/// Every error x2s3 can answer with. Status, S3 code and message are decided in one switch
/// (`wire`), and only `Dispatcher` turns an error into bytes.
public enum S3Error: Error, Equatable, Sendable {
    case noSuchKey(key: String)
    case noSuchBucket(bucket: String)
    case accessDenied
    case invalidArgument(String, argumentName: String? = nil, argumentValue: String? = nil)
    case invalidURI(String)
    /// `range`: the Range header as the client sent it (echoed as `RangeRequested`).
    case invalidRange(size: UInt64, range: String = "")
    case invalidRequest(String)
    case preconditionFailed(condition: String)
    case notModified
    case methodNotAllowed(method: String)
    case notImplemented(String)
    case badRequest(String)
    case keyTooLong
    case internalError(String)
    case serviceUnavailable(String)
    case slowDown(String)
    case gatewayTimeout(String)
    case badGateway(String)
    /// An upstream S3 error passed through with its own status, code and message.
    case upstream(status: Int, code: String, message: String)

    /// (HTTP status, S3 error code, message) for this error.
    public var wire: (status: Int, code: String, message: String) {
        switch self {
        case .noSuchKey: return (404, "NoSuchKey", "The specified key does not exist.")
        case .noSuchBucket: return (404, "NoSuchBucket", "The specified bucket does not exist")
        case .accessDenied: return (403, "AccessDenied", "Access Denied")
        case .invalidArgument(let m, _, _): return (400, "InvalidArgument", m)
        case .invalidURI(let m): return (400, "InvalidURI", m)
        case .invalidRange: return (416, "InvalidRange", "The requested range is not satisfiable")
        case .invalidRequest(let m): return (400, "InvalidRequest", m)
        case .preconditionFailed: return (412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
        case .notModified: return (304, "NotModified", "Not Modified")
        case .methodNotAllowed: return (405, "MethodNotAllowed", "The specified method is not allowed against this resource.")
        case .notImplemented(let m): return (501, "NotImplemented", m)
        case .badRequest(let m): return (400, "BadRequest", m)
        case .keyTooLong: return (400, "KeyTooLongError", "Your key is too long")
        case .internalError(let m): return (500, "InternalError", m)
        case .serviceUnavailable(let m): return (503, "ServiceUnavailable", m)
        case .slowDown(let m): return (503, "SlowDown", m)
        case .gatewayTimeout(let m): return (504, "GatewayTimeout", m)
        case .badGateway(let m): return (502, "BadGateway", m)
        case .upstream(let s, let c, let m): return (s, c, m)
        }
    }
}
