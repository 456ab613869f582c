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
    mutating func authorize(_ routed: inout RoutedRequest, _ request: S3Request, params: [String: String],
                            everyParam: () -> [String: String]) -> Bool {
        if let token = routed.capability { return authorize(&routed, capability: token) }
        if case .listBuckets = routed.route {
            // The bucket list is public; a valid signature only adds the private buckets the
            // credential may read. A bad one is not an error here: clients sign with whatever
            // credentials their machine has, and public buckets never check them.
            guard checksSignatures else { return false }
            if let credential = try? verifySignature(request, params: params, everyParam: everyParam) {
                access = .credential(credential)
                return true
            }
            return false
        }
        guard let target = routed.route.target, target.isPrivate else { return false }
        do throws(S3Error) {
            guard let credential = try verifySignature(request, params: params, everyParam: everyParam), credential.allows(bucket: target.name) else {
                throw .accessDenied
            }
            access = .credential(credential)
        } catch {
            routed.route = .error(error)
            routed.refusal = .privateBucket
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
            routed.refusal = .capability
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

    /// The credential that signed the request; nil when unsigned (`verify` says so). Verified first with the
    /// headers the request parser kept; only a signature that does not match and names some
    /// other header is verified again with every header nginx passed, from `everyParam`
    /// (deciding that up front cost every signed request a second scan of its signature).
    mutating func verifySignature(_ request: S3Request, params: [String: String],
                                  everyParam: () -> [String: String]) throws(S3Error) -> Credential? {
        let raw = SigV4Verifier.Request(method: request.method, rawPath: request.rawPath, rawQuery: request.rawQuery,
                                        headers: request.headers, host: request.host)
        let now = fixedNow ?? WallClock.now()
        let config = self.config
        do {
            return try verifier.verify(raw, now: now) { config.credential(accessKey: $0) }
        } catch {
            guard case .signatureDoesNotMatch = error, Self.needsAllParams(params) else { throw error }
            return try verifier.verify(Self.withEveryHeader(raw, params: everyParam()), now: now) { config.credential(accessKey: $0) }
        }
    }

    /// `raw` with every `HTTP_*` param as a header (`-` for `_`, lower case).
    static func withEveryHeader(_ raw: SigV4Verifier.Request, params: [String: String]) -> SigV4Verifier.Request {
        var headers: [String: String] = [:]
        for (name, value) in params where name.utf8.starts(with: "HTTP_".utf8) {
            headers[SignedParams.headerName(param: name)] = value
        }
        for (param, header) in [("CONTENT_TYPE", "content-type"), ("CONTENT_LENGTH", "content-length")] {
            if let v = params[param], !v.isEmpty { headers[header] = v }
        }
        var full = raw
        full.headers = headers
        return full
    }

    /// Whether a request's signature names a header outside `paramNames` (or its Authorization
    /// header is too unusual to tell), so that verifying it needs every param. botocore, the AWS
    /// CLI, rclone and presigned URLs sign only headers among them.
    static func needsAllParams(_ params: [String: String]) -> Bool {
        guard let source = SignedParams.source(params) else { return false }
        return !SignedParams.namesOnlyReadHeaders(source)
    }

    /// `Cache-Control: private` on a private answer: no shared cache may keep it. A directive the
    /// answer carried (a chunk's max-age, a presigned URL's response-cache-control) is kept for
    /// the client's own cache, `public` and `s-maxage` dropped.
    static func makePrivate(_ head: inout ResponseHead) {
        guard let i = head.headers.firstIndex(where: { $0.0 == "Cache-Control" }) else {
            head.add("Cache-Control", "private")  // the usual case: no list to build and join
            return
        }
        var directives = ["private"]
        for d in head.headers[i].1.split(separator: ",") {
            let t = String(d).trimmingSpaces
            let lower = t.lowercased()
            if t.isEmpty || lower == "public" || lower == "private" || lower.hasPrefix("s-maxage") { continue }
            directives.append(String(t))
        }
        head.headers.remove(at: i)
        head.add("Cache-Control", directives.joined(separator: ", "))
    }
}
