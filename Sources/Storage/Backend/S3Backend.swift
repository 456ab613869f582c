package import HTTPClient
import Posix
package import S3Protocol
import WorkerPool

/// An upstream S3-compatible bucket as a bucket, optionally rooted at a key prefix. Reads are
/// forwarded with one blocking HTTP client per backend (connections kept across the worker's
/// requests) and signed with SigV4 when the target has key files; bodies stream straight from
/// the upstream socket to the response. Like `FileBackend`, it returns facts: every HTTP
/// decision about the client's response (conditionals, range, headers) is the dispatcher's.
package final class S3Backend: StorageBackend {
    let bucket: String
    let options: S3Options
    let endpoint: Endpoint
    /// Virtual-hosted (`bucket.host`) rather than path-style (`host/bucket`) upstream URLs.
    let virtualHost: Bool
    /// nil for anonymous targets, whose requests go unsigned.
    let signer: SigV4?
    /// `prefix` plus `/`, or empty: what is prepended to keys and stripped from listings.
    let root: String
    let client: HTTPClient

    /// Upstream error bodies and listing pages are read into memory up to these sizes.
    static let errorBodyLimit = 64 * 1024
    static let listingBodyLimit = 32 * 1024 * 1024

    /// Reads the credential files and prepares the client. Runs in the worker, after fork.
    package init(bucket: String, options: S3Options) throws(S3Error) {
        guard let endpoint = Endpoint(options.endpoint ?? "https://s3.\(options.region).amazonaws.com") else {
            throw .internalError("The upstream endpoint of this bucket is not a valid URL.")
        }
        self.bucket = bucket
        self.options = options
        self.endpoint = endpoint
        switch options.addressingStyle.lowercased() {
        case "virtual": virtualHost = true
        case "path": virtualHost = false
        default:
            // botocore's auto: virtual for AWS when the name fits in a DNS label (no dots, or
            // the TLS wildcard breaks); path for custom endpoints, which rarely have bucket DNS.
            virtualHost = options.endpoint == nil && Self.isDNSCompatible(options.bucket)
        }
        do {
            signer = try S3Credentials.load(options).map { SigV4(credentials: $0, region: options.region) }
        } catch {
            // The operator sees the path at startup (`S3Credentials.load` from main); a client
            // only learns that the bucket is misconfigured.
            throw .internalError("The credentials of this bucket are not configured properly.")
        }
        let trimmed = Self.trimSlashes(options.prefix)
        root = trimmed.isEmpty ? "" : trimmed + "/"
        do {
            client = try HTTPClient(options: .init(connectTimeout: options.connectTimeout, stallTimeout: options.readTimeout,
                                                   caBundle: options.caBundle))
        } catch {
            throw .internalError("The HTTP client could not be created.")
        }
    }

    // MARK: StorageBackend

    /// S3 reports a bucket's creation only to its owner's ListBuckets: there is no date to give.
    package var creationDate: Int64? { nil }

    package func head(_ key: String) throws(S3Error) -> ObjectInfo {
        let r = try exchange(method: "HEAD", key: key)
        guard r.status == 200 else { throw Self.statusFailure(status: r.status, code: nil, message: nil, key: key) }
        guard let size = r.contentLength else {
            throw .badGateway("The upstream storage sent no object size.")
        }
        return info(r, size: size)
    }

    package func open(_ key: String, range: ByteRangeRequest?) throws(S3Error) -> any ObjectBody {
        let r = try exchange(method: "GET", key: key, headers: range.map { [("Range", Self.rangeHeader($0))] } ?? [])
        switch r.status {
        case 200:
            guard let size = r.contentLength else {
                throw .badGateway("The upstream storage sent no object size.")
            }
            return S3ObjectBody(info: info(r, size: size), available: 0..<size, response: r)
        case 206:
            guard let (part, total) = r.header("Content-Range").flatMap(Self.parseContentRange) else {
                throw .badGateway("The upstream storage sent an unusable Content-Range.")
            }
            // A part whose length contradicts its range would be cut short or read wrongly.
            if let length = r.contentLength, length != UInt64(part.count) {
                throw .badGateway("The upstream storage sent a Content-Length that contradicts its Content-Range.")
            }
            return S3ObjectBody(info: info(r, size: total), available: part, response: r)
        case 416:
            // Unsatisfiable upstream. Hand the dispatcher the object's facts and no bytes: it
            // evaluates the conditionals first (a 304/412 outranks a 416, RFC 9110), then
            // finds the range unsatisfiable against the full size and answers InvalidRange.
            _ = try? r.readAll(limit: Self.errorBodyLimit)
            return S3ObjectBody(info: try head(key), available: 0..<0, response: nil)
        default:
            throw upstreamError(r, key: key)
        }
    }

    package func list(_ query: ListQuery) throws(S3Error) -> ListPage {
        try listPage(query)
    }

    // MARK: Requests

    /// One upstream request, retried (up to `maxAttempts` in all) while nothing can have
    /// been acted on: the connection failed, or the upstream answered 500/503. Timeouts are
    /// not retried: a worker must not wait several timeouts for one request.
    package func exchange(method: String, key: String?, query: [(String, String)] = [], headers: [(String, String)] = []) throws(S3Error) -> HTTPResponse {
        var attempt = 1
        while true {
            let (url, allHeaders) = request(method: method, key: key, query: query, headers: headers, date: WallClock.now())
            do {
                let r = try client.send(method: method, url: url, headers: allHeaders)
                if (r.status == 500 || r.status == 503) && attempt < options.maxAttempts {
                    _ = try? r.readAll(limit: Self.errorBodyLimit)  // keeps the connection reusable
                } else {
                    return r
                }
            } catch {
                guard error.isConnectFailure && attempt < options.maxAttempts else { throw Self.map(error) }
            }
            HTTPClient.backoff(milliseconds: min(2000, 100 << (attempt - 1)))
            attempt += 1
        }
    }

    /// The URL and headers of one request: addressing, key prefix, encoding and signature.
    /// The URL's path and query are byte-for-byte what was signed.
    func request(method: String, key: String?, query: [(String, String)], headers: [(String, String)], date: Int64) -> (String, [(String, String)]) {
        var path = endpoint.basePath
        let host: String
        if virtualHost {
            host = options.bucket + "." + endpoint.authority
            path += "/" + (key.map { root + $0 } ?? "")
        } else {
            host = endpoint.authority
            path += "/" + options.bucket + (key.map { "/" + root + $0 } ?? "")
        }
        var url = endpoint.scheme + "://" + host + SigV4.encodePath(path)
        if !query.isEmpty { url += "?" + SigV4.canonicalQuery(query) }
        guard let signer else { return (url, [("Host", host)] + headers) }
        return (url, signer.sign(method: method, host: host, path: path, query: query, date: date).headers + headers)
    }

    /// Facts from a successful HEAD or GET. The content type is left to the key table; the
    /// ETag is the upstream's or derived from it (`UpstreamETag`), as in listings.
    func info(_ r: HTTPResponse, size: UInt64) -> ObjectInfo {
        let modified = r.header("Last-Modified").flatMap(HTTPDate.parse) ?? 0
        let etag = UpstreamETag.validator(r.header("ETag"), proxy: options.proxyETag, size: size, lastModified: modified)
        return ObjectInfo(size: size, lastModified: Timestamp(seconds: modified), etag: etag)
    }

    /// Reads an upstream error document (bounded) and maps it.
    func upstreamError(_ r: HTTPResponse, key: String?) -> S3Error {
        let body = (try? r.readAll(limit: Self.errorBodyLimit)) ?? []
        let (code, message) = ListObjectsV2Parser.parseError(body)
        return Self.statusFailure(status: r.status, code: code, message: message, key: key)
    }

    // MARK: Pure helpers

    /// Upstream status and S3 code → what the client sees. `key` is the client-visible key
    /// (nil for listings). A HEAD error has no body, so its bare status decides. Upstream 403s
    /// of any kind become AccessDenied; a missing upstream bucket is the gateway's
    /// misconfiguration, reported without naming it. x2s3 never sends conditionals upstream,
    /// so a 304 is the upstream's fault, not the client's answer.
    static func mapError(status: Int, code: String?, message: String?, key: String?) -> S3Error {
        switch (status, code) {
        case (_, S3Error.Code.noSuchBucket.rawValue?):
            return .badGateway("The upstream bucket of this target does not exist.")
        case (_, S3Error.Code.noSuchKey.rawValue?), (404, nil):
            if let key { return .noSuchKey(key: key) }
            return .badGateway("The upstream storage answered 404 for a listing.")
        case (403, _), (_, S3Error.Code.accessDenied.rawValue?):
            return .accessDenied
        case (304, _):
            return .badGateway("The upstream storage answered 304 to an unconditional request.")
        case (412, _):
            return .preconditionFailed(condition: "If-Match")
        case (503, S3Error.Code.slowDown.rawValue?):
            return .slowDown(message ?? "Please reduce your request rate.")
        default:
            let fallback: S3Error.Code = status >= 500 ? .internalError : .upstreamError
            return .upstream(status: status, code: code ?? fallback.rawValue, message: message ?? "Unknown error")
        }
    }

    /// Transport failures → the gateway errors of docs/contract.md#errors: timeouts 504, unreachable
    /// 503, a broken exchange 502, each marked with its cause (logged at WARN and counted).
    /// libcurl's text (a TLS verification failure, say) goes to the log line, not to the client.
    static func map(_ error: HTTPClientError) -> S3Error {
        let mapped: S3Error, detail: String, cause: PoolStats.UpstreamCause
        switch error {
        case .connectTimeout(let d): (mapped, detail, cause) = (.gatewayTimeout("Connection to the upstream storage timed out."), d, .timeout)
        case .stalled(let d): (mapped, detail, cause) = (.gatewayTimeout("The upstream storage timed out."), d, .timeout)
        case .connectFailed(let d): (mapped, detail, cause) = (.serviceUnavailable("The upstream storage is unreachable."), d, .connect)
        case .unresolved(let d): (mapped, detail, cause) = (.serviceUnavailable("The upstream storage is unreachable."), d, .dns)
        case .tlsFailed(let d): (mapped, detail, cause) = (.serviceUnavailable("The upstream storage is unreachable."), d, .tls)
        case .transport(let d): (mapped, detail, cause) = (.badGateway("The connection to the upstream storage failed."), d, .protocol)
        case .invalidResponse(let d): (mapped, detail, cause) = (.badGateway("The upstream storage sent an invalid response."), d, .protocol)
        case .setup(let d): (mapped, detail, cause) = (.internalError("The upstream request could not be made."), d, .other)
        }
        return .upstreamFailure(mapped, cause: cause, detail: detail.isEmpty ? "" : "upstream: " + detail)
    }

    /// An upstream error status, as `mapError` maps it, marked as an upstream failure unless it
    /// is an answer the client asked for (a missing key, a failed precondition).
    static func statusFailure(status: Int, code: String?, message: String?, key: String?) -> S3Error {
        let mapped = mapError(status: status, code: code, message: message, key: key)
        switch mapped {
        case .noSuchKey, .preconditionFailed: return mapped
        default:
            let what = code.map { " \($0)" } ?? ""
            return .upstreamFailure(mapped, cause: .status, detail: "upstream answered \(status)\(what)")
        }
    }

    /// The client's single range, re-serialised for the upstream.
    static func rangeHeader(_ r: ByteRangeRequest) -> String {
        switch r {
        case .closed(let a, let b): return "bytes=\(a)-\(b)"
        case .from(let a): return "bytes=\(a)-"
        case .suffix(let n): return "bytes=-\(n)"
        }
    }

    /// `bytes a-b/total` → (a..<b+1, total); nil for `*` totals or inconsistent numbers.
    static func parseContentRange(_ header: String) -> (Range<UInt64>, UInt64)? {
        var h = Substring(header).drop { $0 == " " }
        guard h.lowercased().hasPrefix("bytes ") else { return nil }
        h = h.dropFirst(6).drop { $0 == " " }
        guard let dash = h.firstIndex(of: "-"), let slash = h.firstIndex(of: "/"), dash < slash,
              let a = UInt64(h[..<dash]), let b = UInt64(h[h.index(after: dash)..<slash]),
              let total = UInt64(h[h.index(after: slash)...]), a <= b, b < total
        else { return nil }
        return (a..<(b + 1), total)
    }

    static func isDNSCompatible(_ name: String) -> Bool {
        name.count >= 3 && name.count <= 63 && !name.contains(".")
            && name.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "-" }
    }

    static func trimSlashes(_ s: String) -> String {
        var t = Substring(s)
        while t.first == "/" { t = t.dropFirst() }
        while t.last == "/" { t = t.dropLast() }
        return String(t)
    }
}
