internal import CCurl
internal import Posix

/// A blocking HTTP/1.1 client for a one-request-at-a-time worker, on libcurl.
///
/// One easy handle driven through one multi handle, both kept for the worker's life, so
/// connections to the upstream are reused across requests (they live in the multi handle's
/// connection cache). The multi interface is what lets `send` return as soon as the response
/// head is in — status and headers decide the client's response head — while the body is
/// still on the wire: the write callback pauses the transfer until `HTTPResponse.readBody`
/// supplies a consumer, which then gets the body in pieces of up to the receive buffer's size.
/// Memory stays bounded by that buffer (twice: libcurl's and the staging one) whatever the
/// object's size.
///
/// Not thread-safe, by design: a worker process serves one request at a time. Create it after
/// `fork()` (libcurl's resolver threads and sockets must not be shared between processes).
public final class HTTPClient {
    /// Timeouts and buffer size, from the target's botocore-style `config`.
    public struct Options: Sendable, Equatable {
        /// Seconds to establish a connection (DNS, TCP, TLS).
        public var connectTimeout: Double
        /// Seconds without a single received byte before the transfer is abandoned. A stall
        /// timer, not a total deadline: a large object may take as long as it takes.
        public var stallTimeout: Double
        /// libcurl's receive buffer, and the largest chunk handed to a body consumer. The
        /// default is libcurl's maximum: fewer, larger reads and writes per byte relayed.
        public var receiveBufferSize: Int
        /// A PEM file of CA certificates that replaces the system's for TLS verification
        /// (CURLOPT_CAINFO), for stores behind an internal CA; nil keeps the system store.
        public var caBundle: String?

        public init(connectTimeout: Double, stallTimeout: Double, receiveBufferSize: Int = 512 * 1024, caBundle: String? = nil) {
            self.connectTimeout = connectTimeout
            self.stallTimeout = stallTimeout
            self.receiveBufferSize = receiveBufferSize
            self.caBundle = caBundle
        }
    }

    private let stallTimeout: Duration
    // SAFETY: the easy and multi handles are created in init and cleaned up only in deinit; libcurl handles
    //  never leave this class.
    private let easy: UnsafeMutableRawPointer
    // SAFETY: as easy: created in init, cleaned up only in deinit.
    private let multi: UnsafeMutableRawPointer
    private let state: TransferState
    /// libcurl writes the detail of a failure here (CURLOPT_ERRORBUFFER).
    // SAFETY: allocated once, handed to libcurl as CURLOPT_ERRORBUFFER and freed in deinit after the handles
    //  that write to it.
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE))
    /// The request header list, owned until the next request replaces it.
    // SAFETY: the list set as CURLOPT_HTTPHEADER; freed when the next send replaces it (no transfer runs then:
    //  detach() came first) or in deinit, so libcurl never reads a freed list.
    private var headerList: UnsafeMutablePointer<curl_slist>?
    /// The easy handle is attached to the multi handle (a transfer is under way).
    private var attached = false
    /// Identifies the current transfer, so a stale `HTTPResponse` cannot touch a newer one.
    private(set) var generation = 0

    /// Creates the handles and sets the options that never change. Wraps `curl_easy_init`
    /// and `curl_multi_init` (which run `curl_global_init` implicitly: the worker is
    /// single-threaded, so that is safe).
    public init(options: Options) throws(HTTPClientError) {
        guard let easy = curl_easy_init() else { throw .setup("curl_easy_init failed") }
        guard let multi = curl_multi_init() else {
            curl_easy_cleanup(easy)
            throw .setup("curl_multi_init failed")
        }
        self.easy = easy
        self.multi = multi
        state = TransferState(stageCapacity: options.receiveBufferSize)
        stallTimeout = .milliseconds(max(1, Int(options.stallTimeout * 1000)))
        errorBuffer[0] = 0
        // SAFETY: the context is unretained: state is a let of this client, which cleans up the handles (and
        //  with them every callback) in deinit before state goes.
        let context = Unmanaged.passUnretained(state).toOpaque()
        let stall = max(1, Int(options.stallTimeout.rounded(.up)))
        var rc = CURLE_OK
        func set(_ r: CURLcode) { if rc == CURLE_OK { rc = r } }
        // Signals are the worker's (SIGPIPE, SIGTERM); libcurl must not install handlers.
        set(x2s3_curl_setopt_long(easy, CURLOPT_NOSIGNAL, 1))
        set(x2s3_curl_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, max(1, Int(options.connectTimeout * 1000))))
        // The stall timeout proper is `drive`'s (libcurl averages speed over ~5 s, so its own
        // low-speed check fires seconds late after a burst); this is a backstop. A paused
        // transfer is exempt, so the time between head and body does not count.
        set(x2s3_curl_setopt_long(easy, CURLOPT_LOW_SPEED_LIMIT, 1))
        set(x2s3_curl_setopt_long(easy, CURLOPT_LOW_SPEED_TIME, stall))
        set(x2s3_curl_setopt_long(easy, CURLOPT_BUFFERSIZE, options.receiveBufferSize))
        // HTTP/1.1: pausing is plain TCP back-pressure, and one stream per connection is all
        // a single-request worker needs.
        set(x2s3_curl_setopt_long(easy, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1))
        set(x2s3_curl_setopt_long(easy, CURLOPT_TCP_KEEPALIVE, 1))
        set(x2s3_curl_setopt_long(easy, CURLOPT_FOLLOWLOCATION, 0))
        // Verification is libcurl's default; stated so that no build or environment can turn it off.
        set(x2s3_curl_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, 1))
        set(x2s3_curl_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, 2))
        if let caBundle = options.caBundle { set(x2s3_curl_setopt_string(easy, CURLOPT_CAINFO, caBundle)) }
        set(x2s3_curl_setopt_pointer(easy, CURLOPT_ERRORBUFFER, errorBuffer))
        set(x2s3_curl_setopt_callback(easy, CURLOPT_HEADERFUNCTION, TransferState.headerCallback))
        set(x2s3_curl_setopt_pointer(easy, CURLOPT_HEADERDATA, context))
        set(x2s3_curl_setopt_callback(easy, CURLOPT_WRITEFUNCTION, TransferState.writeCallback))
        set(x2s3_curl_setopt_pointer(easy, CURLOPT_WRITEDATA, context))
        guard rc == CURLE_OK else {
            let text = String(cString: curl_easy_strerror(rc))
            curl_multi_cleanup(multi)
            curl_easy_cleanup(easy)
            errorBuffer.deallocate()
            throw .setup(text)
        }
    }

    deinit {
        detach()
        curl_multi_cleanup(multi)
        curl_easy_cleanup(easy)
        if let headerList { curl_slist_free_all(headerList) }
        errorBuffer.deallocate()
    }

    /// Sends a request without a body and returns once the response head is complete; the
    /// body (if any) is still pending in the returned response. A transfer still under way
    /// from an earlier `send` is abandoned first (its connection is closed).
    ///
    /// `headers` are sent as given (`Host` too, so it matches what was signed).
    public func send(method: String, url: String, headers: [(String, String)]) throws(HTTPClientError) -> HTTPResponse {
        detach()
        generation += 1
        state.reset()
        errorBuffer[0] = 0

        // SAFETY: the list is handed to headerList below, which frees it (see headerList).
        var list: UnsafeMutablePointer<curl_slist>?
        for (name, value) in headers { list = curl_slist_append(list, "\(name): \(value)") }
        // libcurl adds these unless told not to; S3 needs neither.
        list = curl_slist_append(list, "Accept:")
        list = curl_slist_append(list, "Expect:")
        if let headerList { curl_slist_free_all(headerList) }
        headerList = list

        var rc = x2s3_curl_setopt_string(easy, CURLOPT_URL, url)
        if rc == CURLE_OK { rc = x2s3_curl_setopt_slist(easy, CURLOPT_HTTPHEADER, list) }
        if rc == CURLE_OK {
            // HTTPGET resets NOBODY and CUSTOMREQUEST left by an earlier HEAD.
            rc = method == "HEAD" ? x2s3_curl_setopt_long(easy, CURLOPT_NOBODY, 1) : x2s3_curl_setopt_long(easy, CURLOPT_HTTPGET, 1)
        }
        guard rc == CURLE_OK else { throw .setup(String(cString: curl_easy_strerror(rc))) }
        guard curl_multi_add_handle(multi, easy) == CURLM_OK else { throw .setup("curl_multi_add_handle failed") }
        attached = true

        try drive { state.headComplete }
        if let invalid = state.invalidHead {
            detach()
            throw invalid
        }
        if !state.headComplete {
            let error = failure() ?? .transport("the upstream closed the connection without a response")
            detach()
            throw error
        }
        return HTTPResponse(client: self, generation: generation, status: state.status, headers: state.headers,
                            contentLength: state.contentLength)
    }

    /// Continues the current transfer, handing every body chunk to `consume`, until the
    /// body ends. Throws the consumer's own error if it stopped the transfer, else an
    /// `HTTPClientError` if the transfer failed.
    func readBody(generation: Int, _ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard generation == self.generation, attached else {
            // Finished already (a HEAD, an empty body, or read before); nothing remains.
            if generation == self.generation, state.result == nil || state.result == CURLE_OK { return }
            throw HTTPClientError.transport("the transfer is no longer available")
        }
        try withoutActuallyEscaping(consume) { consumer in
            state.consumer = consumer
            defer { state.consumer = nil }
            state.lastActivity = .now
            if state.paused {
                state.paused = false
                // May call the write callback synchronously with the chunk held back.
                _ = curl_easy_pause(easy, x2s3_curl_pause_cont())
            }
            if state.consumerError == nil { try drive { false } }
        }
        let error = failure()
        let consumerError = state.consumerError
        detach()
        if let consumerError { throw consumerError }
        if let error { throw error }
    }

    /// Abandons the transfer `generation` if it is still the current one.
    func cancel(generation: Int) {
        if generation == self.generation { detach() }
    }

    /// Runs libcurl until `done()` holds or the transfer ends. Blocks in `curl_multi_poll`,
    /// whose wait libcurl shortens to its own next timer (connect and stall timeouts), so
    /// this cannot hang past them.
    private func drive(until done: () -> Bool) throws(HTTPClientError) {
        while true {
            var running: Int32 = 0
            let mc = curl_multi_perform(multi, &running)
            guard mc == CURLM_OK else { throw .setup(String(cString: curl_multi_strerror(mc))) }
            var result = CURLE_OK
            // libcurl has read what the socket held (or finished): pass the staged bytes on
            // before waiting for more.
            state.flush()
            if x2s3_curl_multi_done(multi, easy, &result) != 0 { state.result = result }
            if state.result != nil || done() || state.consumerError != nil { return }
            if state.paused && state.consumer == nil { return }
            if stalledNow() { return }
            guard curl_multi_poll(multi, nil, 0, 200, nil) == CURLM_OK else { throw .setup("curl_multi_poll failed") }
        }
    }

    /// The stall timer: nothing received for `stallTimeout` once the request was on its way
    /// (connecting is the connect timeout's business). Marks the transfer failed.
    private func stalledNow() -> Bool {
        let now = ContinuousClock.now
        guard let last = state.lastActivity else {
            var pretransfer: curl_off_t = 0
            _ = x2s3_curl_getinfo_off(easy, CURLINFO_PRETRANSFER_TIME_T, &pretransfer)
            if pretransfer > 0 { state.lastActivity = now }
            return false
        }
        guard now - last > stallTimeout else { return false }
        state.stalled = true
        state.result = CURLE_OPERATION_TIMEDOUT
        return true
    }

    /// The current transfer's failure, if it ended with one.
    private func failure() -> HTTPClientError? {
        if state.stalled { return .stalled("no data from the upstream for \(stallTimeout)") }
        guard let result = state.result, result != CURLE_OK else { return nil }
        var connectTime: curl_off_t = 0
        _ = x2s3_curl_getinfo_off(easy, CURLINFO_CONNECT_TIME_T, &connectTime)
        return HTTPClientError.from(result, connected: connectTime > 0 || state.status != 0, detail: String(cString: errorBuffer))
    }

    /// Takes the easy handle out of the multi handle. A finished transfer leaves its
    /// connection in the cache for the next request; an unfinished one is closed.
    private func detach() {
        guard attached else { return }
        curl_multi_remove_handle(multi, easy)
        attached = false
        state.consumer = nil
    }

    /// Sleeps between retries (through Posix).
    public static func backoff(milliseconds: Int) {
        MonotonicClock.sleep(milliseconds: milliseconds)
    }
}
