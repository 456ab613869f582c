import Escaping

/// One HTTP request as x2s3 sees it, parsed from FastCGI/CGI params with no I/O.
public struct S3Request: Sendable {
    public var method: String
    /// The raw path of REQUEST_URI (still percent-encoded), e.g. `/bucket/a%20b`.
    public var rawPath: String
    /// The raw query of REQUEST_URI (still encoded, without `?`), as a signature covers it.
    public var rawQuery: Substring = ""
    /// The path percent-decoded once (`+` stays literal), e.g. `/bucket/a b`.
    public var path: String
    /// Query items in order, form-decoded (`+` is a space); a value is nil for `?acl`. Items
    /// whose name is written `X-Amz-…` are left out: they are a presigned signature's
    /// parameters, which no operation reads and the verifier reads from `rawQuery` (decoding
    /// them here cost a presigned GET about a µs). They are still checked for a bad encoding.
    public var query: [QueryItem]
    /// The Host header with its port, if any.
    public var host: String?
    /// `http` or `https`, as seen by the client (nginx tells us).
    public var scheme: String
    /// Request headers x2s3 looks at, keyed by lower-case name.
    public var headers: [String: String]

    package init(method: String, rawPath: String, path: String, query: [QueryItem],
                 host: String? = nil, scheme: String, headers: [String: String]) {
        self.method = method
        self.rawPath = rawPath
        self.path = path
        self.query = query
        self.host = host
        self.scheme = scheme
        self.headers = headers
    }

    /// Longest REQUEST_URI accepted; S3 keys are ≤ 1024 bytes, so this only stops abuse.
    public static let maxURILength = 8192
    /// S3's longest key, in UTF-8 bytes: longer ones are absent from listings and refused
    /// with KeyTooLongError.
    public static let maxKeyBytes = 1024

    /// The value of a query parameter (the last one when repeated, as S3 does).
    public func queryValue(_ name: String) -> String?? {
        guard let item = query.last(where: { $0.name == name }) else { return nil }
        return .some(item.value)
    }

    /// Whether the query names `name` at all.
    public func hasQuery(_ name: String) -> Bool { query.contains { $0.name == name } }

    public func header(_ name: String) -> String? { Self.header(name, in: headers) }

    /// `headers[name]`, for the few headers a request carries. A request carries one or two of
    /// the headers x2s3 reads (a signed one three more), and lookups (~10 per GET) mostly miss:
    /// comparing lengths first beats hashing the name every time.
    public static func header(_ name: String, in headers: [String: String]) -> String? {
        guard headers.count <= 4 else { return headers[name] }
        let length = name.utf8.count
        for (key, value) in headers where key.utf8.count == length && key == name { return value }
        return nil
    }

    /// The headers read from `HTTP_*` params, by their lower-case HTTP names.
    static let headerParams: [(param: String, name: String)] = [
        ("HTTP_ACCEPT", "accept"), ("HTTP_RANGE", "range"), ("HTTP_IF_MATCH", "if-match"),
        ("HTTP_IF_NONE_MATCH", "if-none-match"), ("HTTP_IF_MODIFIED_SINCE", "if-modified-since"),
        ("HTTP_IF_UNMODIFIED_SINCE", "if-unmodified-since"), ("HTTP_IF_RANGE", "if-range"),
        ("HTTP_ORIGIN", "origin"), ("HTTP_ACCESS_CONTROL_REQUEST_METHOD", "access-control-request-method"),
        ("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", "access-control-request-headers"),
        ("HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK", "access-control-request-private-network"),
        ("HTTP_X_FORWARDED_PROTO", "x-forwarded-proto"), ("X2S3_OFFLOAD", "x2s3-offload"),
        // What a SigV4 signature carries and botocore, the AWS CLI and rclone sign: a signed
        // request is then verified from these alone.
        ("HTTP_AUTHORIZATION", "authorization"), ("HTTP_X_AMZ_DATE", "x-amz-date"), ("HTTP_DATE", "date"),
        ("HTTP_X_AMZ_CONTENT_SHA256", "x-amz-content-sha256"), ("HTTP_X_AMZ_SECURITY_TOKEN", "x-amz-security-token"),
    ]

    /// Whether `name` (a lower-case header name's bytes) is one `headers` would hold if sent;
    /// `host` is `host`. No allocation: it runs on every signed request.
    public static func readsHeader(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
        readHeaderNames.contains { Bytes.equal(name, $0) }
    }

    /// Only those that come from a request header (`HTTP_*`): `x2s3-offload` is nginx's.
    private static let readHeaderNames: [[UInt8]] = [Array("host".utf8)]
        + headerParams.filter { $0.param.hasPrefix("HTTP_") }.map { Array($0.name.utf8) }

    /// What a param means to `parse`.
    enum Param {
        case method, uri, scriptName, pathInfo, queryString, https, scheme, host
        case header(String)
    }

    /// Every param `parse` reads (and so every one the Dispatcher may see), by byte length:
    /// `parse` walks the params once instead of ~20 hashed lookups, most of them misses.
    static let paramsByLength: [[(param: String, meaning: Param)]] = {
        let all: [(String, Param)] = [
            ("REQUEST_METHOD", .method), ("REQUEST_URI", .uri), ("SCRIPT_NAME", .scriptName),
            ("PATH_INFO", .pathInfo), ("QUERY_STRING", .queryString), ("HTTPS", .https),
            ("REQUEST_SCHEME", .scheme), ("HTTP_HOST", .host),
        ] + headerParams.map { ($0.param, .header($0.name)) }
        var table = [[(param: String, meaning: Param)]](repeating: [], count: (all.map(\.0.utf8.count).max() ?? 0) + 1)
        for (param, meaning) in all { table[param.utf8.count].append((param, meaning)) }
        return table
    }()

    /// The names of all params x2s3 reads: a FastCGI worker copies only these.
    public static let paramNames: [String] = paramsByLength.flatMap { $0.map(\.param) }

    /// Parses the params of one request. Bad encodings and overlong URIs are the client's
    /// mistake and become 400-class S3 errors; nothing here can crash.
    public static func parse(params: [String: String]) throws(S3Error) -> S3Request {
        var method = "GET", requestURI: String?, scriptName: String?, pathInfo: String?, queryString: String?
        var https: String?, requestScheme: String?, host: String?, forwardedProto: String?
        // Sized for the usual few (nginx always sends X2S3_OFFLOAD; a signed request adds three
        // or four): growing cost a second allocation and a rehash.
        var headers: [String: String] = [:]
        headers.reserveCapacity(8)  // Dictionary(minimumCapacity:) is not specialized: a metadata lookup
        let known = paramsByLength
        for (param, value) in params {
            let length = param.utf8.count
            guard length < known.count, let entry = known[length].first(where: { $0.param == param }) else { continue }
            switch entry.meaning {
            case .method: method = value
            case .uri: requestURI = value
            case .scriptName: scriptName = value
            case .pathInfo: pathInfo = value
            case .queryString: queryString = value
            case .https: https = value
            case .scheme: requestScheme = value
            case .host: host = value
            case .header(let name):
                headers[name] = value
                if name == "x-forwarded-proto" { forwardedProto = value }
            }
        }
        // REQUEST_URI is raw (nginx's $uri merges slashes and resolves dots); a CGI server
        // that lacks it gives SCRIPT_NAME + PATH_INFO, already decoded, so re-encode `%`.
        var uri = requestURI ?? ""
        if uri.isEmpty {
            let p = (scriptName ?? "") + (pathInfo ?? "")
            uri = PercentEncoding.encode(p, keeping: .allButPercent)
            if let q = queryString, !q.isEmpty { uri += "?" + q }
        }
        guard uri.utf8.count <= maxURILength else {
            throw .invalidURI("The request URI is too long.")
        }
        let rawPath: Substring, rawQuery: Substring
        // Contiguous bytes: a Character search, then a UTF8View walk, were hot spots.
        if let q = firstIndex(of: UInt8(ascii: "?"), in: uri) {
            rawPath = uri[..<q]
            rawQuery = uri[uri.index(after: q)...]
        } else {
            rawPath = Substring(uri)
            rawQuery = ""
        }
        // An absolute-form URI (`http://host/path`) is legal HTTP; keep only its path.
        // (Byte prefixes: Substring.hasPrefix compares Characters.)
        var pathPart = rawPath
        if pathPart.utf8.first == UInt8(ascii: "h"),
           pathPart.utf8.starts(with: "http://".utf8) || pathPart.utf8.starts(with: "https://".utf8),
           let colon = pathPart.firstIndex(of: ":") {
            let afterScheme = pathPart[pathPart.index(colon, offsetBy: 3)...]
            pathPart = afterScheme.firstIndex(of: "/").map { afterScheme[$0...] } ?? "/"
        }
        if pathPart.isEmpty { pathPart = "/" }
        guard let path = percentDecode(pathPart, plusIsSpace: false) else {
            throw .invalidURI("Couldn't parse the specified URI.")
        }
        guard firstIndex(of: 0, in: path) == nil else { throw .invalidURI("Couldn't parse the specified URI.") }

        let query = try parseQuery(rawQuery)

        let isHTTPS = https.map { $0.lowercased() == "on" || $0 == "1" } ?? false
        let scheme = forwardedProto ?? requestScheme ?? (isHTTPS ? "https" : "http")
        var request = S3Request(
            method: uppercasedMethod(method), rawPath: String(pathPart), path: path, query: query,
            host: host, scheme: scheme, headers: headers
        )
        request.rawQuery = rawQuery
        return request
    }

    /// The query's items in order, each name and value form-decoded once; those written
    /// `X-Amz-…` only with `keepingAmzItems` (see `query`). Raw bytes: splitting the Substring
    /// by Character cost a presigned URL's 500-byte query 11 µs per request.
    package static func parseQuery(_ rawQuery: Substring, keepingAmzItems: Bool = false) throws(S3Error) -> [QueryItem] {
        guard !rawQuery.isEmpty else { return [] }
        let parsed = rawQuery.utf8.withContiguousStorageIfAvailable { parseQueryBytes($0, keepingAmzItems: keepingAmzItems) }
            // SAFETY: the fallback buffer lives for the call only; the parser copies what it keeps.
            ?? Array(rawQuery.utf8).withUnsafeBufferPointer { parseQueryBytes($0, keepingAmzItems: keepingAmzItems) }
        switch parsed {
        case .success(let items): return items
        case .failure(let error): throw error
        }
    }

    /// `parseQuery` on the bytes of a String. A function, not a stored closure: the closure's
    /// captured array and error were boxed on the heap.
    private static func parseQueryBytes(_ b: UnsafeBufferPointer<UInt8>, keepingAmzItems: Bool) -> Result<[QueryItem], S3Error> {
        var items: [QueryItem] = []
        items.reserveCapacity(8)
        var failure: S3Error?
        RawQuery.forEachItem(in: b) { nameRange, valueRange in
            // SAFETY: the ranges come from scanning b itself, so they are in bounds; the views are only read here.
            let rawName = UnsafeBufferPointer(rebasing: b[nameRange])
            if !keepingAmzItems, Bytes.startsWith(rawName, "X-Amz-"), PercentEncoding.decodes(bytes: rawName),
               valueRange.map({ PercentEncoding.decodes(bytes: UnsafeBufferPointer(rebasing: b[$0])) }) ?? true {
                return true
            }
            guard let name = PercentEncoding.decode(bytes: rawName, plusIsSpace: true) else {
                failure = .invalidArgument("Invalid query parameter encoding.", argumentName: String(decoding: rawName, as: UTF8.self))
                return false
            }
            guard let valueRange else {
                items.append(QueryItem(name: name, value: nil))
                return true
            }
            let rawValue = UnsafeBufferPointer(rebasing: b[valueRange])
            guard let value = PercentEncoding.decode(bytes: rawValue, plusIsSpace: true) else {
                failure = .invalidArgument("Invalid query parameter encoding.", argumentName: name,
                                           argumentValue: String(decoding: rawValue, as: UTF8.self))
                return false
            }
            items.append(QueryItem(name: name, value: value))
            return true
        }
        if let failure { return .failure(failure) }
        return .success(items)
    }

    /// `method.uppercased()`, without its allocation for a method that is already upper case.
    static func uppercasedMethod(_ method: String) -> String {
        let lowerOrNonASCII = method.utf8.contains { ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || $0 >= 0x80 }
        return lowerOrNonASCII ? method.uppercased() : method
    }
}

/// The index of the first `byte` in `s`, scanning contiguous bytes (a UTF8View walk is slow).
private func firstIndex(of byte: UInt8, in s: String) -> String.Index? {
    let offset = s.utf8.withContiguousStorageIfAvailable { $0.firstIndex(of: byte) } ?? s.utf8.firstIndex(of: byte).map { s.utf8.distance(from: s.utf8.startIndex, to: $0) }
    return offset.map { s.utf8.index(s.utf8.startIndex, offsetBy: $0) }
}
