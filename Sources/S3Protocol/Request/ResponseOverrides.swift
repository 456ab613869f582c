/// GetObject/HeadObject's `response-*` query parameters: the response headers the client asks
/// to have set instead of the stored ones, as S3 does. AWS only honours them on signed
/// requests; x2s3 honours them on anonymous ones too (browsers and viewers use them to name
/// downloads), as docs/compatibility.md says.
public struct ResponseOverrides: Sendable, Equatable {
    public var contentType: String?
    public var contentDisposition: String?
    public var contentLanguage: String?
    public var contentEncoding: String?
    public var cacheControl: String?
    public var expires: String?

    public init() {}

    /// The query parameters, as S3 names them.
    static let parameters = ["response-content-type", "response-content-language", "response-expires",
                             "response-cache-control", "response-content-disposition", "response-content-encoding"]

    public var isEmpty: Bool { self == ResponseOverrides() }

    /// The overrides a request asks for (the last of a repeated parameter, as S3 reads
    /// queries; an empty or valueless one is ignored). A value that could not be a header
    /// value (control characters: it could split the response head) is refused with 400.
    public init(query: [QueryItem]) throws(S3Error) {
        self.init()
        // Nearly every request has no query at all, and none of these.
        guard query.contains(where: { $0.name.utf8.starts(with: "response-".utf8) }) else { return }
        for param in Self.parameters {
            guard let item = query.last(where: { $0.name == param }), let value = item.value, !value.isEmpty else { continue }
            guard !value.utf8.contains(where: { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }) else {
                throw .invalidArgument("Header value contains invalid characters.", argumentName: param, argumentValue: value)
            }
            switch param {
            case "response-content-type": contentType = value
            case "response-content-language": contentLanguage = value
            case "response-expires": expires = value
            case "response-cache-control": cacheControl = value
            case "response-content-disposition": contentDisposition = value
            default: contentEncoding = value
            }
        }
    }
}
