/// One HTTP request as x2s3 sees it, parsed from FastCGI/CGI params with no I/O.
public struct S3Request: Sendable {
    public var method: String
    /// The raw path of REQUEST_URI (still percent-encoded), e.g. `/bucket/a%20b`.
    public var rawPath: String
    /// The path percent-decoded once (`+` stays literal), e.g. `/bucket/a b`.
    public var path: String
    /// Query items in order, form-decoded (`+` is a space); a value is nil for `?acl`.
    public var query: [(name: String, value: String?)]
    /// The Host header with its port, if any.
    public var host: String?
    /// `http` or `https`, as seen by the client (nginx tells us).
    public var scheme: String
    /// Request headers x2s3 looks at, keyed by lower-case name.
    public var headers: [String: String]

    /// Longest REQUEST_URI accepted; S3 keys are ≤ 1024 bytes, so this only stops abuse.
    public static let maxURILength = 8192

    /// The value of a query parameter (the last one when repeated, as S3 does).
    public func queryValue(_ name: String) -> String?? {
        guard let item = query.last(where: { $0.name == name }) else { return nil }
        return .some(item.value)
    }

    /// Whether the query names `name` at all.
    public func hasQuery(_ name: String) -> Bool { query.contains { $0.name == name } }

    public func header(_ name: String) -> String? { headers[name] }

    /// The headers read from `HTTP_*` params, by their lower-case HTTP names.
    static let headerParams: [(param: String, name: String)] = [
        ("HTTP_ACCEPT", "accept"), ("HTTP_RANGE", "range"), ("HTTP_IF_MATCH", "if-match"),
        ("HTTP_IF_NONE_MATCH", "if-none-match"), ("HTTP_IF_MODIFIED_SINCE", "if-modified-since"),
        ("HTTP_IF_UNMODIFIED_SINCE", "if-unmodified-since"), ("HTTP_IF_RANGE", "if-range"),
        ("HTTP_ORIGIN", "origin"), ("HTTP_ACCESS_CONTROL_REQUEST_METHOD", "access-control-request-method"),
        ("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", "access-control-request-headers"),
        ("HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK", "access-control-request-private-network"),
        ("HTTP_X_FORWARDED_PROTO", "x-forwarded-proto"), ("X2S3_OFFLOAD", "x2s3-offload"),
    ]

    /// Parses the params of one request. Bad encodings and overlong URIs are the client's
    /// mistake and become 400-class S3 errors; nothing here can crash.
    public static func parse(params: [String: String]) throws(S3Error) -> S3Request {
        let method = params["REQUEST_METHOD"] ?? "GET"
        // REQUEST_URI is raw (nginx's $uri merges slashes and resolves dots); a CGI server
        // that lacks it gives SCRIPT_NAME + PATH_INFO, already decoded, so re-encode `%`.
        var uri = params["REQUEST_URI"] ?? ""
        if uri.isEmpty {
            let p = (params["SCRIPT_NAME"] ?? "") + (params["PATH_INFO"] ?? "")
            uri = p.replacingPercent()
            if let q = params["QUERY_STRING"], !q.isEmpty { uri += "?" + q }
        }
        guard uri.utf8.count <= maxURILength else {
            throw .invalidURI("The request URI is too long.")
        }
        let rawPath: Substring, rawQuery: Substring
        if let q = uri.utf8.firstIndex(of: UInt8(ascii: "?")) {  // bytes: Character search was a hot spot
            rawPath = uri[..<q]
            rawQuery = uri[uri.index(after: q)...]
        } else {
            rawPath = Substring(uri)
            rawQuery = ""
        }
        // An absolute-form URI (`http://host/path`) is legal HTTP; keep only its path.
        var pathPart = rawPath
        if pathPart.hasPrefix("http://") || pathPart.hasPrefix("https://") {
            let afterScheme = pathPart[pathPart.index(pathPart.firstIndex(of: ":")!, offsetBy: 3)...]
            pathPart = afterScheme.firstIndex(of: "/").map { afterScheme[$0...] } ?? "/"
        }
        if pathPart.isEmpty { pathPart = "/" }
        guard let path = percentDecode(pathPart, plusIsSpace: false) else {
            throw .invalidURI("Couldn't parse the specified URI.")
        }
        guard !path.utf8.contains(0) else { throw .invalidURI("Couldn't parse the specified URI.") }

        var query: [(name: String, value: String?)] = []
        for item in rawQuery.split(separator: "&", omittingEmptySubsequences: true) {
            let name: Substring, value: Substring?
            if let eq = item.firstIndex(of: "=") {
                name = item[..<eq]
                value = item[item.index(after: eq)...]
            } else {
                name = item
                value = nil
            }
            guard let n = percentDecode(name, plusIsSpace: true) else {
                throw .invalidArgument("Invalid query parameter encoding.", argumentName: String(name))
            }
            var v: String? = nil
            if let value {
                guard let d = percentDecode(value, plusIsSpace: true) else {
                    throw .invalidArgument("Invalid query parameter encoding.", argumentName: n, argumentValue: String(value))
                }
                v = d
            }
            query.append((n, v))
        }

        var headers: [String: String] = [:]
        for (param, name) in headerParams {
            if let v = params[param] { headers[name] = v }
        }
        let https = params["HTTPS"].map { $0.lowercased() == "on" || $0 == "1" } ?? false
        let scheme = headers["x-forwarded-proto"] ?? params["REQUEST_SCHEME"] ?? (https ? "https" : "http")
        return S3Request(
            method: method.uppercased(), rawPath: String(pathPart), path: path, query: query,
            host: params["HTTP_HOST"], scheme: scheme, headers: headers
        )
    }
}

/// Decodes `%XX` escapes once; nil on a malformed escape or bytes that are not UTF-8.
func percentDecode<S: StringProtocol>(_ s: S, plusIsSpace: Bool) -> String? {
    let utf8 = s.utf8
    if !utf8.contains(UInt8(ascii: "%")) && !(plusIsSpace && utf8.contains(UInt8(ascii: "+"))) {
        return String(s)
    }
    var out: [UInt8] = []
    out.reserveCapacity(utf8.count)
    var i = utf8.startIndex
    func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x41...0x46: return c - 0x41 + 10
        case 0x61...0x66: return c - 0x61 + 10
        default: return nil
        }
    }
    while i != utf8.endIndex {
        let c = utf8[i]
        if c == UInt8(ascii: "%") {
            let h1 = utf8.index(after: i)
            guard h1 != utf8.endIndex else { return nil }
            let h2 = utf8.index(after: h1)
            guard h2 != utf8.endIndex, let a = hex(utf8[h1]), let b = hex(utf8[h2]) else { return nil }
            out.append(a << 4 | b)
            i = utf8.index(after: h2)
        } else {
            out.append(plusIsSpace && c == UInt8(ascii: "+") ? UInt8(ascii: " ") : c)
            i = utf8.index(after: i)
        }
    }
    return String(validating: out, as: UTF8.self)
}

extension String {
    /// Escapes `%` so an already-decoded CGI path survives one decoding pass unchanged.
    fileprivate func replacingPercent() -> String {
        var out = ""
        for ch in self { out += ch == "%" ? "%25" : String(ch) }
        return out
    }
}
