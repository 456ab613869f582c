import Auth
public import S3Protocol
import Storage

/// Request + config → route. Pure: no I/O, no backend; the precedence rules live only here.
public enum Router {
    /// Subresources S3 defines that a read-only gateway does not implement: answered with
    /// 501 instead of being mistaken for a listing or an object read.
    static let unsupportedSubresources: Set<String> = [
        "accelerate", "analytics", "attributes", "cors", "delete", "encryption", "intelligent-tiering",
        "inventory", "legal-hold", "lifecycle", "logging", "metrics", "notification", "object-lock",
        "ownershipControls", "policy", "policyStatus", "publicAccessBlock", "replication", "requestPayment",
        "restore", "retention", "select", "tagging", "torrent", "uploadId", "uploads", "versioning",
        "versions", "website", "partNumber", "versionId", "session",
    ]

    /// Every name in `unsupportedSubresources` starts with a lower-case letter: other names
    /// (a presigned URL's six `X-Amz-*`) skip hashing, which was a tenth of routing one.
    static func isLowercaseInitial(_ name: String) -> Bool {
        guard let first = name.utf8.first else { return false }
        return first >= UInt8(ascii: "a") && first <= UInt8(ascii: "z")
    }

    /// The paths x2s3 answers for itself, on the base host only.
    public static let ownPrefix = "/_x2s3/"
    public static let healthPath = "/_x2s3/health"
    public static let metricsPath = "/_x2s3/metrics"

    /// Assets compiled into the binary, by URL path.
    static let assetPaths: [String: String] = [
        "/favicon.ico": "favicon.ico",
    ]

    static let capabilityPrefix = "/" + Capability.pathPrefix

    public static func route(_ request: S3Request, config: Config) -> RoutedRequest {
        var routed = RoutedRequest(route: .error(.internalError("unrouted")), varyAccept: false,
                                   resource: request.path, bucket: nil, virtualHost: false)
        let method = request.method
        if method == "OPTIONS" {
            let isPreflight = request.header("origin") != nil && request.header("access-control-request-method") != nil
            routed.route = isPreflight ? .preflight
                : .error(.badRequest("Insufficient information. Origin request header needed."))
            return routed
        }
        guard method == "GET" || method == "HEAD" else {
            routed.route = .error(.methodNotAllowed(method: method))
            return routed
        }
        var path = request.path
        if let base = config.baseURL, base.path != "/", path.hasPrefix(base.path) {
            path = "/" + path.dropFirst(base.path.count)
        }
        // A capability link, on the base host only (on a bucket's own host it is a key): the
        // token is taken off and the rest routed path-style.
        if path.hasPrefix(capabilityPrefix), virtualBucket(host: request.host, config: config) == nil {
            let rest = path.dropFirst(capabilityPrefix.count)
            let slash = rest.firstIndex(of: "/") ?? rest.endIndex
            routed.capability = String(rest[..<slash])
            path = slash == rest.endIndex ? "/" : String(rest[slash...])
        }
        if path == "/robots.txt" { routed.route = .robots; return routed }
        if let asset = asset(path) ?? staticAsset(path) { routed.route = .asset(name: asset); return routed }

        let html = config.ui && prefersHTML(request.header("accept"))
        // Bucket and key: from the Host header for virtual buckets, else the first segment.
        var bucketName: String
        var key: Substring
        if let vb = virtualBucket(host: request.host, config: config) {
            bucketName = vb
            key = path.dropFirst()
            routed.virtualHost = true
        } else {
            // x2s3's own paths: no bucket can be named `_x2s3` (S3 names start with a letter or
            // digit, and the config refuses it), and on a bucket's virtual host they are keys.
            if path.utf8.count > 7, path.hasPrefix(Self.ownPrefix) {
                if path == Self.healthPath { routed.route = .health; return routed }
                if path == Self.metricsPath { routed.route = .metrics; return routed }
            }
            let split = splitBucket(path)
            bucketName = String(split.bucket)
            key = split.key ?? ""
        }
        routed.hasKey = !key.isEmpty
        if bucketName.isEmpty {
            routed.route = .listBuckets(html: html)
            routed.varyAccept = true
            return routed
        }
        routed.bucket = bucketName
        guard let target = config.target(named: bucketName) else {
            routed.route = .error(.noSuchBucket(bucket: bucketName))
            return routed
        }
        if request.hasQuery("acl") { routed.route = .acl(target: target); return routed }
        if request.hasQuery("location") { routed.route = .location(target: target); return routed }
        if let sub = request.query.first(where: { isLowercaseInitial($0.name) && unsupportedSubresources.contains($0.name) }) {
            routed.route = .error(.notImplemented("A header or query you provided implies functionality that is not implemented (\(sub.name))."))
            return routed
        }
        if key.isEmpty {
            if let listType = request.queryValue("list-type") {
                guard target.browseable else { routed.route = .error(.accessDenied); return routed }
                guard listType == "2" else {
                    routed.route = .error(.invalidArgument("Invalid List Type specified in Request",
                                                           argumentName: "list-type", argumentValue: listType ?? ""))
                    return routed
                }
                routed.route = listRoute(request, target: target, bucket: bucketName, version: .v2)
                return routed
            }
            routed.varyAccept = true
            guard target.browseable else { routed.route = .error(.accessDenied); return routed }
            routed.route = html ? .browse(target: target, bucket: bucketName, prefix: "")
                : listRoute(request, target: target, bucket: bucketName, version: .v1)
            return routed
        }
        if endsWithSlash(key) {
            // A folder URL: people get the folder page, S3 clients get GetObject("dir/") → 404.
            routed.varyAccept = true
            if html {
                routed.route = target.browseable ? .browse(target: target, bucket: bucketName, prefix: String(key)) : .error(.accessDenied)
                return routed
            }
        }
        // x2s3's own parameter, for people: the object's page. Without the UI it means nothing
        // and the URL stays a GetObject (S3 ignores parameters it does not know).
        if config.ui, request.hasQuery("preview") {
            routed.varyAccept = true
            routed.route = .preview(target: target, bucket: bucketName, key: String(key))
            return routed
        }
        routed.route = .object(target: target, bucket: bucketName, key: String(key))
        return routed
    }

    private static func listRoute(_ request: S3Request, target: Target, bucket: String, version: ListQuery.Version) -> Route {
        do {
            return .listObjects(target: target, bucket: bucket, query: try ListQueryParser.parse(request.query, version: version))
        } catch {
            return .error(error)
        }
    }

    /// The path without its first Character, split at its first `/` Character into bucket and
    /// key (nil without a `/`). Character semantics, as before (a `/` carrying a combining mark
    /// separates nothing), but printable ASCII paths — all real ones — are split on bytes: there
    /// every byte is a Character, and bytes are far cheaper to step than Characters.
    static func splitBucket(_ path: String) -> (bucket: Substring, key: Substring?) {
        var copy = path
        let bytes: (count: Int, slash: Int?)? = copy.withUTF8 { b in
            // CR is the one ASCII byte that can join the next (CR LF) into one Character.
            guard !b.contains(where: { $0 >= 0x80 || $0 == UInt8(ascii: "\r") }) else { return nil }
            return (b.count, b.dropFirst().firstIndex(of: UInt8(ascii: "/")))
        }
        guard let bytes else {
            let rest = path.dropFirst()
            guard let slash = rest.firstIndex(of: "/") else { return (rest, nil) }
            return (rest[..<slash], rest[rest.index(after: slash)...])
        }
        let utf8 = path.utf8
        let start = utf8.index(utf8.startIndex, offsetBy: min(1, bytes.count))
        guard let slash = bytes.slash.map({ utf8.index(utf8.startIndex, offsetBy: $0) }) else { return (path[start...], nil) }
        return (path[start..<slash], path[utf8.index(after: slash)...])
    }

    /// `key.hasSuffix("/")` (Characters), decided by the last two bytes when the one before the
    /// `/` is ASCII: only a (non-ASCII) Prepend scalar could join a `/` into a larger Character.
    static func endsWithSlash(_ key: Substring) -> Bool {
        guard key.utf8.last == UInt8(ascii: "/") else { return false }
        if let before = key.utf8.dropLast().last, before >= 0x80 { return key.hasSuffix("/") }
        return true
    }

    /// `assetPaths[path]`, without hashing every request's path for a one-entry table.
    private static func asset(_ path: String) -> String? {
        let length = path.utf8.count
        return assetPaths.first { $0.key.utf8.count == length && $0.key == path }?.value
    }

    private static func staticAsset(_ path: String) -> String? {
        guard path.hasPrefix("/static/") else { return nil }
        let name = String(path.dropFirst(8))
        return name.isEmpty || name.contains("/") ? nil : name
    }

    /// The bucket named by the Host header: only hosts ending in `.<base host>` are virtual;
    /// `www.<base host>` and every other host are path-style.
    static func virtualBucket(host: String?, config: Config) -> String? {
        guard config.virtualBuckets, let base = config.baseURL, var host = host?.lowercased() else { return nil }
        if host.hasPrefix("[") { return nil }
        if let colon = host.lastIndex(of: ":") { host = String(host[..<colon]) }
        if host.hasSuffix(".") { host.removeLast() }
        let suffix = "." + base.host.lowercased()
        guard host.hasSuffix(suffix), host.count > suffix.count else { return nil }
        let label = host.dropLast(suffix.count).split(separator: ".").first.map(String.init) ?? ""
        return label.isEmpty || label == "www" ? nil : label
    }

    /// The original's negotiation: HTML iff `text/html` appears before `application/xml`
    /// (or without it). q-values are ignored; no Accept or `*/*` means XML.
    public static func prefersHTML(_ accept: String?) -> Bool {
        guard let accept, let h = offset(of: "text/html", in: accept) else { return false }
        guard let x = offset(of: "application/xml", in: accept) else { return true }
        return h < x
    }

    /// Byte offset of the first occurrence of `needle`, without Foundation (nor copies of
    /// either string: this runs on every GET with an Accept header).
    static func offset(of needle: String, in haystack: String) -> Int? {
        var haystack = haystack, needle = needle
        return haystack.withUTF8 { h in
            needle.withUTF8 { n -> Int? in
                guard let first = n.first, n.count <= h.count else { return n.isEmpty ? 0 : nil }
                for i in 0...(h.count - n.count) where h[i] == first && h[i..<(i + n.count)].elementsEqual(n) { return i }
                return nil
            }
        }
    }
}
