import Auth
import Browser
import Deflate
public import Logging
import Posix
public import S3Protocol
import Storage
public import WorkerPool

/// Runs one request end to end: parse → route → backend → one response on the sink.
/// It never throws: failures before the head become S3 XML errors; after it, a cut stream.
public struct Dispatcher {
    let config: Config
    var logger: Logger
    /// Opened backends by lower-cased bucket name; a worker keeps them across requests.
    var backends: [String: any StorageBackend] = [:]
    var requestIDs = RequestIDGenerator()
    /// Answer every request 503 SlowDown: this worker is the pool's overflow while every other
    /// worker is busy.
    public var shedding = false
    /// Sorted directory names for every file bucket of this worker.
    let listCache: SortedNameCache
    /// Checks signatures for private targets; keeps derived signing keys across requests.
    var verifier = SigV4Verifier()
    /// Who the current request is (Dispatcher+Access), set before its route runs.
    var access = Access.anonymous
    /// Whether any target is private: only then are signatures read at all.
    public let checksSignatures: Bool
    /// The clock signatures are checked against; nil is the system's (tests fix it).
    public var fixedNow: Int64?
    /// The pool-wide counters (`/_x2s3/metrics`, `/_x2s3/health`); nil counts nothing.
    public var stats: PoolStats?
    /// Bucket rows in `stats`, by configured name, once claimed.
    var bucketRows: [String: Int] = [:]
    /// The listing cache's hits and misses already added to `stats`.
    var reportedCache = (hits: 0, misses: 0)
    /// Reachability probes by lower-cased target name (health).
    var probes: [String: Probe] = [:]

    public init(config: Config, logger: Logger) {
        self.config = config
        self.logger = logger
        listCache = SortedNameCache(settings: config.listingCache)
        checksSignatures = config.targets.contains(where: \.isPrivate)
    }

    /// The source swift-log derives from `#fileID` (the module name), derived once: left to
    /// swift-log, it is a new String on every line.
    static let logSource = String(#fileID.prefix { $0 != "/" })

    /// A response before it is written.
    struct Response {
        var head: ResponseHead
        var body: Body
        /// Added to the request's log line (an error's `logDetail`).
        var logDetail: String?
        /// The response reports a failed upstream exchange: logged as a warning, counted.
        var upstreamCause: PoolStats.UpstreamCause?
        /// A document x2s3 made (page, listing, error, asset), as opposed to an object's bytes:
        /// only these may be compressed.
        var generated = false

        enum Body {
            case none
            case bytes([UInt8])
            case object(any ObjectBody, Range<UInt64>, Delivery)
        }

        init(status: Int, contentType: String? = nil, body: [UInt8]? = nil) {
            head = ResponseHead(status: status)
            if let contentType { head.add("Content-Type", contentType) }
            if let body {
                head.add("Content-Length", String(body.count))
                self.body = .bytes(body)
                generated = true
            } else {
                self.body = .none
            }
        }

        init(head: ResponseHead, body: Body) {
            self.head = head
            self.body = body
        }
    }

    /// Answers one request on `sink`. Returns false when the response was cut after its head
    /// (the body failed, or the client went away): the caller must drop the connection rather
    /// than end the request normally, so the cut reaches the client. `params` need hold only
    /// `S3Request.paramNames`; `everyParam` gives them all, for the rare signature that names
    /// another header (asked only after it failed with those).
    @discardableResult
    public mutating func handle<S: ResponseSink>(params: [String: String], sink: inout S,
                                                 everyParam: () -> [String: String]) -> Bool {
        // Generic code is not specialized across modules: with S left open, every request
        // instantiated ResponseWriter<S>/BodyWriter<S> metadata at run time. Behind one concrete
        // wrapper the response path is compiled once, for it.
        var erased = AnySink(base: sink)
        defer { if let base = erased.base as? S { sink = base } }  // always: it was built from an S just above
        return handle(params: params, sink: &erased, everyParam: everyParam)
    }

    /// `handle` when `params` hold every param (a CGI environment).
    @discardableResult
    public mutating func handle<S: ResponseSink>(params: [String: String], sink: inout S) -> Bool {
        handle(params: params, sink: &sink) { params }
    }

    private mutating func handle(params: [String: String], sink: inout AnySink, everyParam: () -> [String: String]) -> Bool {
        let started = ContinuousClock.now
        let requestID = requestIDs.next()
        access = .anonymous  // before anything can fail: no request may log or list with the last one's key
        var request: S3Request
        var routed: RoutedRequest
        var response: Response
        var isPrivate = false
        // A request answered SlowDown is still counted as what it asked for.
        var shed: (S3Request, RoutedRequest)?
        do throws(S3Error) {
            request = try S3Request.parse(params: params)
            routed = Router.route(request, config: config)
            // Health answers even then, with a 503 that says why (`health`).
            if case .health = routed.route {} else if shedding || waitedTooLong(params) {
                shed = (request, routed)
                throw .slowDown("Please reduce your request rate.")
            }
            isPrivate = authorize(&routed, request, params: params, everyParam: everyParam)
            if Self.mayTakeLong(routed.route) { sink.willTakeLong() }
            response = run(routed, request, params: params, requestID: requestID)
        } catch {
            request = S3Request(method: (params["REQUEST_METHOD"] ?? "GET").uppercased(), rawPath: "/", path: "/",
                                query: [], host: params["HTTP_HOST"], scheme: "http",
                                headers: params["HTTP_ACCEPT"].map { ["accept": $0] } ?? [:])
            routed = RoutedRequest(route: .error(error), varyAccept: false, resource: "/", bucket: nil, virtualHost: false)
            response = errorResponse(error, resource: "/", requestID: requestID, isHead: request.method == "HEAD",
                                     page: errorPage(request, routed))
        }
        // With the UI on, every error a GET can get is negotiated (page or XML), whatever the route.
        if config.ui, request.method != "HEAD", response.head.status >= 400 { routed.varyAccept = true }
        if isPrivate { Self.makePrivate(&response.head) }
        let varyEncoding = encode(&response, gzip: params[Self.gzipParam] == "gzip")
        addCommonHeaders(&response.head, request: request, routed: routed, requestID: requestID, varyEncoding: varyEncoding)
        if case .object(_, let range, _) = response.body, request.method != "HEAD",
           range.count > Self.longBodyBytes { sink.willTakeLong() }

        // The head goes out exactly once; after it, errors can only cut the stream.
        var body = ResponseWriter(sink: sink).writeHead(response.head)
        var streamError: (any Error)?
        if request.method != "HEAD" {
            switch response.body {
            case .none: break
            case .bytes(let bytes): body.write(bytes)
            case .object(let object, let range, let delivery):
                do { try delivery.send(object, range, into: &body) } catch { streamError = error }
            }
        }
        let sent = body.bytesWritten
        let clientGone = body.failed != nil
        sink = body.finish()

        let ms = (ContinuousClock.now - started).components
        // Who read a private bucket: the access key that signed, or that granted the capability link.
        let user: String?
        switch access {
        case .anonymous: user = nil
        case .credential(let c): user = c.accessKey
        case .capability(let grant, _): user = grant.accessKey
        }
        // A literal's table is sized for its own keys: user.name added after them rehashed them all.
        var meta: Logger.Metadata = [
            "request.id": .string(requestID), "method": .string(request.method), "uri": .string(LoggedURI.of(params["REQUEST_URI"] ?? "")),
            "status": .string(String(response.head.status)), "bytes": .string(String(sent)),
            "ms": .string(String(ms.seconds * 1000 + ms.attoseconds / 1_000_000_000_000_000)), "user.name": .string(user ?? ""),
        ]
        if user == nil { meta["user.name"] = nil }
        // ECS's name, so JSON logs file the cause where log tools look for it.
        if let detail = response.logDetail { meta["error.message"] = .string(detail) }
        let elapsed = ContinuousClock.now - started
        // An upstream that fails mid-body: its cause, as for a failure before the head.
        let streamCause = (streamError as? S3Error)?.upstreamCause
        count(shed?.0 ?? request, shed?.1 ?? routed, status: response.head.status, bytes: Int(sent),
              microseconds: elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000,
              upstreamCause: response.upstreamCause ?? (clientGone ? nil : streamCause))
        if let cause = response.upstreamCause, !clientGone, streamError == nil {
            meta["upstream.cause"] = .string(cause.name)
            if let bucket = routed.bucket { meta["bucket"] = .string(bucket) }
            logger.warning("upstream failure", metadata: meta, source: Self.logSource)
        } else if clientGone {
            meta["outcome"] = "client gone"
            logger.info("request cancelled", metadata: meta, source: Self.logSource)
        } else if let streamError {
            if let e = streamError as? S3Error, let cause = e.upstreamCause {
                meta["upstream.cause"] = .string(cause.name)
                meta["error"] = .string(e.logDetail ?? e.wire.message)
            } else {
                meta["error"] = "\(streamError)"
            }
            logger.warning("stream cut", metadata: meta, source: Self.logSource)
        } else {
            logger.info("request", metadata: meta, source: Self.logSource)
        }
        return !clientGone && streamError == nil
    }

    /// The param nginx sets to the time (`$msec`) it handed the request to the pool.
    public static let queuedAtParam = "X2S3_QUEUED_AT"
    /// The param nginx sets to `gzip` when the client accepts gzip (nginx.conf.template's map).
    /// A param, not the worker's own reading of Accept-Encoding: the production cache keys on
    /// the same variable, so the two can never disagree; and a client cannot forge a param.
    public static let gzipParam = "X2S3_GZIP"
    /// Documents smaller than this are sent as they are (they fit a packet either way).
    static let minGzipBytes = 1024
    /// Every param the dispatcher reads: a FastCGI worker copies only these.
    public static let paramNames = S3Request.paramNames + [queuedAtParam, gzipParam, metricsAllowedParam]

    /// Compresses a generated document when nginx says the client takes gzip. Objects are never
    /// touched: compressing one would change its ETag and Content-Length. HEAD gets the same
    /// headers as GET. Returns whether the response depends on Accept-Encoding.
    func encode(_ response: inout Response, gzip: Bool) -> Bool {
        guard response.generated, case .bytes(let bytes) = response.body, bytes.count >= Self.minGzipBytes else { return false }
        guard gzip, let packed = Gzip.compress(bytes) else { return true }
        response.head.headers.removeAll { $0.0 == "Content-Length" }
        response.head.add("Content-Length", String(packed.count))
        response.head.add("Content-Encoding", "gzip")
        response.body = .bytes(packed)
        return true
    }

    /// Whether the request waited for a worker longer than the pool's `max_wait`: then its
    /// client has long been better off retrying than waiting on (S3 clients back off on 503
    /// SlowDown), and answering it at once drains the queue behind it.
    func waitedTooLong(_ params: [String: String]) -> Bool {
        guard let text = params[Self.queuedAtParam], let queued = Double(text) else { return false }
        return WallClock.nowMilliseconds() - Int64(queued * 1000) > Int64(config.pool.maxWait * 1000)
    }

    /// Bodies above this size take long enough to be worth freeing the sink's other resources.
    static let longBodyBytes: UInt64 = 1 << 20

    /// Routes whose answer may take long before its first byte: anything touching an upstream
    /// S3 server, and listings (a large directory).
    static func mayTakeLong(_ route: Route) -> Bool {
        switch route {
        case .listObjects, .browse, .preview: return true
        case .acl(let t), .location(let t), .object(let t, _, _): return t.callsUpstream
        case .health: return true  // may probe upstreams
        case .robots, .asset, .preflight, .listBuckets, .metrics, .error: return false
        }
    }

    /// Headers every response carries, errors included. CORS is a constant `*` so cached
    /// responses are valid for every origin.
    func addCommonHeaders(_ head: inout ResponseHead, request: S3Request, routed: RoutedRequest, requestID: String,
                          varyEncoding: Bool = false) {
        head.add("x-amz-request-id", requestID)
        head.add("Access-Control-Allow-Origin", "*")
        head.add("Access-Control-Expose-Headers", "Content-Range, Content-Length, Content-Type, ETag, Last-Modified, Accept-Ranges, Content-Disposition, x-amz-request-id")
        if request.header("access-control-request-private-network")?.trimmingSpaces.lowercased() == "true" {
            head.add("Access-Control-Allow-Private-Network", "true")
        }
        switch (routed.varyAccept, varyEncoding) {
        case (true, true): head.add("Vary", "Accept, Accept-Encoding")
        case (true, false): head.add("Vary", "Accept")
        case (false, true): head.add("Vary", "Accept-Encoding")
        case (false, false): break
        }
    }

    /// The error response: the S3 XML document, or with `page` the same facts as an HTML page
    /// (a person's browser). HEAD responses carry no body and so announce none, XML as always.
    func errorResponse(_ error: S3Error, resource: String, requestID: String, isHead: Bool, page: ErrorPage? = nil) -> Response {
        let w = error.wire
        var r: Response
        if isHead {
            r = Response(status: w.status, contentType: "application/xml")
        } else if let page {
            let hint: String? = switch page.refusal {
            case .privateBucket? where w.code == "AccessDenied": HTMLPages.privateBucketHint
            case .capability? where w.code == "AccessDenied": HTMLPages.capabilityHint
            default: nil
            }
            let html = HTMLPages.error(w, resource: resource, requestID: requestID, back: page.back, context: page.context, hint: hint)
            r = Response(status: w.status, contentType: "text/html; charset=utf-8", body: Array(html.utf8))
        } else {
            r = Response(status: w.status, contentType: "application/xml", body: Array(S3XML.error(w, resource: resource, requestID: requestID).utf8))
        }
        for h in w.headers { r.head.add(h.name, h.value) }
        r.logDetail = error.logDetail
        r.upstreamCause = error.upstreamCause
        return r
    }
}

/// Request ids: 16 characters of [A-Z0-9], as S3's look, unique within the process.
///
/// Drawn from a SplitMix64 generator seeded once from the system generator, on first use (so
/// each forked worker seeds its own): two getrandom(2) syscalls per request cost more than the
/// rest of the id. The ids only correlate logs and responses; they need not be unpredictable.
struct RequestIDGenerator {
    private var state: UInt64 = 0
    private var seeded = false

    /// 16 base-36 digits of `high · 2^64 + low`, where `low` is a SplitMix64 output (a bijection
    /// of the counter, so never repeated within 2^63 ids) and `high` < ⌊36^16 / 2^64⌋ comes
    /// from the next output: the number stays below 36^16, every digit nearly uniform.
    mutating func next() -> String {
        if !seeded {
            var system = SystemRandomNumberGenerator()
            state = system.next()
            seeded = true
        }
        var low = step()
        var high = step() % 431_439
        let alphabet: StaticString = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        // SAFETY: exactly 16 bytes are written and returned.
        return String(unsafeUninitializedCapacity: 16) { digits in
            for i in 0..<16 {
                let (q, r) = high.quotientAndRemainder(dividingBy: 36)
                let (lowQuotient, digit) = UInt64(36).dividingFullWidth((r, low))
                digits[i] = alphabet.utf8Start[Int(digit)]
                high = q
                low = lowQuotient
            }
            return 16
        }
    }

    private mutating func step() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A response sink of any type, as one concrete type (see `Dispatcher.handle`).
///
/// It stays because this module cannot name the worker's sink (x2s3 imports X2S3Core, not the
/// reverse), so nothing here can be specialised for it; the only other concrete form is an
/// existential stored in the writers themselves, which is this wrapper spread over
/// ResponseWriter, BodyWriter and every ObjectBody. Without either, each request pays for
/// generic metadata and value witnesses again.
struct AnySink: ResponseSink {
    var base: any ResponseSink

    mutating func write(_ bytes: UnsafeRawBufferPointer) throws { try base.write(bytes) }
    mutating func flush() throws { try base.flush() }
    // The protocol has no default implementations, so the compiler checks every requirement
    // is forwarded to the worker's own.
    mutating func willTakeLong() { base.willTakeLong() }
    mutating func sendFile(_ file: FileDescriptor, range: Range<UInt64>) throws -> Bool { try base.sendFile(file, range: range) }
}
