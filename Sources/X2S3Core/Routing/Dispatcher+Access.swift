import Auth
import Posix
import S3Protocol
import Storage

/// Who a request is, as far as private targets care.
enum Access: Sendable {
    case anonymous
    /// A valid SigV4 signature (header or presigned) of this credential.
    case credential(Credential)
    /// A valid capability link (its token as it appeared in the path).
    case capability(Capability, token: String)
}

/// Access control for private targets. Decided after routing and before any storage access, so
/// a refused request costs no backend call; public targets never look at signatures.
extension Dispatcher {
    /// Replaces the route with its error when the request may not have it. Returns whether the
    /// answer is private (must not be stored by a shared cache).
    mutating func authorize(_ routed: inout RoutedRequest, _ request: S3Request, params: [String: String]) -> Bool {
        access = .anonymous
        if let token = routed.capability { return authorize(&routed, capability: token) }
        if case .listBuckets = routed.route {
            // The bucket list is public; a valid signature only adds the private buckets the
            // credential may read. A bad one is not an error here: clients sign with whatever
            // credentials their machine has, and public buckets never check them.
            guard checksSignatures else { return false }
            if let credential = try? verifySignature(request, params: params) {
                access = .credential(credential)
                return true
            }
            return false
        }
        guard let target = routed.route.target, target.isPrivate else { return false }
        do throws(S3Error) {
            guard let credential = try verifySignature(request, params: params), credential.allows(bucket: target.name) else {
                throw .accessDenied
            }
            access = .credential(credential)
        } catch {
            routed.route = .error(error)
        }
        return true
    }

    /// A capability link opens GET, HEAD and listings under its prefix, nothing else (not the
    /// bucket list, not `?acl`); assets and preflights need no grant.
    private mutating func authorize(_ routed: inout RoutedRequest, capability token: String) -> Bool {
        let within: (target: Target, key: String)?
        switch routed.route {
        case .robots, .asset, .preflight, .health, .metrics: return false
        case .error: return true
        case .listBuckets, .acl, .location: within = nil
        case .object(let t, _, let key), .preview(let t, _, let key): within = (t, key)
        case .browse(let t, _, let prefix): within = (t, prefix)
        case .listObjects(let t, _, let query): within = (t, query.prefix)
        }
        do throws(S3Error) {
            guard let within else { throw .accessDenied }
            let config = self.config
            let grant = try Capability.verify(token: token, bucket: within.target.name, key: within.key,
                                              now: fixedNow ?? WallClock.now()) { config.credential(accessKey: $0) }
            access = .capability(grant, token: token)
        } catch {
            routed.route = .error(error)
        }
        return true
    }

    /// Whether this request may see `target` in the bucket list.
    func mayList(_ target: Target) -> Bool {
        guard target.browseable else { return false }
        guard target.isPrivate else { return true }
        if case .credential(let c) = access { return c.allows(bucket: target.name) }
        return false
    }

    /// The credential that signed the request; nil when unsigned.
    mutating func verifySignature(_ request: S3Request, params: [String: String]) throws(S3Error) -> Credential? {
        let raw = Self.verifierRequest(request, params: params)
        guard SigV4Verifier.isSigned(raw) else { return nil }
        let now = fixedNow ?? WallClock.now()
        let config = self.config
        return try verifier.verify(raw, now: now) { config.credential(accessKey: $0) }
    }

    /// The signed parts of a request as nginx passed them: the request headers (`HTTP_*`
    /// params, `-` for `_`, lower case) and the raw path and query. For the header form only
    /// those the verifier reads (the date, payload and signed ones) are looked up.
    static func verifierRequest(_ request: S3Request, params: [String: String]) -> SigV4Verifier.Request {
        var headers: [String: String] = [:]
        if let authorization = params["HTTP_AUTHORIZATION"], let signed = signedHeaderNames(authorization) {
            headers.reserveCapacity(8)
            headers["authorization"] = authorization
            for (param, header) in [("HTTP_X_AMZ_DATE", "x-amz-date"), ("HTTP_DATE", "date"),
                                    ("HTTP_X_AMZ_CONTENT_SHA256", "x-amz-content-sha256")] {
                if let v = params[param] { headers[header] = v }
            }
            var start = signed.startIndex
            while start != signed.endIndex {
                let end = signed[start...].firstIndex(of: UInt8(ascii: ";")) ?? signed.endIndex
                // No param name maps back to a header name with `_` (nginx's `_` is `-`).
                let name = signed[start..<end]
                if !name.isEmpty, !name.contains(UInt8(ascii: "_")), let v = params[paramName(header: name)] {
                    headers[String(Substring(name))] = v
                }
                start = end == signed.endIndex ? end : signed.index(after: end)
            }
        } else {
            for (name, value) in params where name.utf8.starts(with: "HTTP_".utf8) {
                headers[headerName(param: name)] = value
            }
        }
        for (param, header) in [("CONTENT_TYPE", "content-type"), ("CONTENT_LENGTH", "content-length")] {
            if let v = params[param], !v.isEmpty { headers[header] = v }
        }
        var rawQuery = ""
        if let uri = params["REQUEST_URI"], !uri.isEmpty {
            if let q = uri.utf8.firstIndex(of: UInt8(ascii: "?")) { rawQuery = String(Substring(uri.utf8[uri.utf8.index(after: q)...])) }
        } else {
            rawQuery = params["QUERY_STRING"] ?? ""
        }
        return SigV4Verifier.Request(method: request.method, rawPath: request.rawPath, rawQuery: rawQuery, headers: headers)
    }

    /// Whether a worker must copy every param (not only those it reads) for this request: it is
    /// signed, and the signature may cover any header.
    public static func needsAllParams(_ params: [String: String]) -> Bool {
        if params["HTTP_AUTHORIZATION"] != nil { return true }
        guard var uri = params["REQUEST_URI"] ?? params["QUERY_STRING"] else { return false }
        // Bytes: String.contains(String) is a generic search, slow on every request.
        return uri.withUTF8 { b in
            guard b.count >= 6 else { return false }
            for i in 0...(b.count - 6) where b[i] == UInt8(ascii: "X") || b[i] == UInt8(ascii: "A") {
                let rest = b[i...]
                if rest.starts(with: "X-Amz-".utf8) || rest.starts(with: "AWSAccessKeyId=".utf8) { return true }
            }
            return false
        }
    }

    /// `Cache-Control: private` on a private answer: no shared cache may keep it. A directive the
    /// answer carried (a chunk's max-age, a presigned URL's response-cache-control) is kept for
    /// the client's own cache, `public` and `s-maxage` dropped.
    static func makePrivate(_ head: inout ResponseHead) {
        var directives = ["private"]
        if let i = head.headers.firstIndex(where: { $0.0 == "Cache-Control" }) {
            for d in head.headers[i].1.split(separator: ",") {
                let t = String(d).trimmingSpaces
                let lower = t.lowercased()
                if t.isEmpty || lower == "public" || lower == "private" || lower.hasPrefix("s-maxage") { continue }
                directives.append(String(t))
            }
            head.headers.remove(at: i)
        }
        head.add("Cache-Control", directives.joined(separator: ", "))
    }
}

/// `HTTP_X_AMZ_DATE` → `x-amz-date`, on bytes.
private func headerName(param: String) -> String {
    let name = param.utf8.dropFirst(5)
    // SAFETY: the fallback buffer lives for the call only; the parser reads it and returns values, no pointers.
    return String(unsafeUninitializedCapacity: name.count) { out in
        var n = 0
        for b in name {
            out[n] = b == UInt8(ascii: "_") ? UInt8(ascii: "-") : (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") ? b | 0x20 : b)
            n += 1
        }
        return n
    }
}

/// The `SignedHeaders` component of an `Authorization: AWS4-HMAC-SHA256 …` header, found as
/// the verifier finds it (`,`-separated, spaces trimmed, the last one counts); nil when there is
/// none or the header is unusual (then every header is passed and the verifier judges).
private func signedHeaderNames(_ authorization: String) -> Substring.UTF8View? {
    let all = Substring(authorization).utf8.drop { $0 == UInt8(ascii: " ") }
    let prefix = "AWS4-HMAC-SHA256 ".utf8
    guard all.starts(with: prefix) else { return nil }
    let u = all.dropFirst(prefix.count)
    guard let first = u.first, first < 0x80 else { return nil }
    var found: Substring.UTF8View?
    var start = u.startIndex
    while start != u.endIndex {
        let end = u[start...].firstIndex(of: UInt8(ascii: ",")) ?? u.endIndex
        var c = u[start..<end]
        while c.first == UInt8(ascii: " ") { c = c.dropFirst() }
        while c.last == UInt8(ascii: " ") { c = c.dropLast() }
        if let eq = c.firstIndex(of: UInt8(ascii: "=")), c[..<eq].elementsEqual("SignedHeaders".utf8) {
            found = c[c.index(after: eq)...]
        }
        start = end == u.endIndex ? end : u.index(after: end)
    }
    return found
}

/// `x-amz-date` → `HTTP_X_AMZ_DATE`, on bytes.
private func paramName(header: Substring.UTF8View) -> String {
    // SAFETY: the fallback buffer lives for the call only; the parser reads it and returns values, no pointers.
    String(unsafeUninitializedCapacity: header.count + 5) { out in
        var n = 0
        for b in "HTTP_".utf8 { out[n] = b; n += 1 }
        for b in header {
            out[n] = b == UInt8(ascii: "-") ? UInt8(ascii: "_") : (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z") ? b & ~0x20 : b)
            n += 1
        }
        return n
    }
}
