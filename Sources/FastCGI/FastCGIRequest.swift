internal import CFastCGI
import Glibc

/// The one owner of a libfcgi `FCGX_Request`: accept a connection, read its params, write the
/// response, finish, repeat. One per worker process; `deinit` releases everything libfcgi holds.
///
/// The `FCGX_Request` lives on the heap because libfcgi's streams keep a pointer back to it: it
/// must not move, which a value stored inline in a (movable) Swift struct could.
///
/// Waiting for a connection: the listening socket is made non-blocking and the wait happens in
/// `ppoll` with the shutdown signals (see `WorkerSignals`) unblocked for the duration of the wait
/// only. So SIGTERM ends an idle worker at once, while a worker that is writing a response never
/// sees EINTR (libfcgi does not retry it and would cut the response): the signal stays pending
/// until the request is finished and the next wait begins — the in-flight request drains.
public struct FastCGIRequest: ~Copyable {
    private let raw: UnsafeMutablePointer<FCGX_Request>
    private let listenFD: Int32
    /// The signal mask in force while waiting: the process mask minus the shutdown signals.
    private var waitMask: sigset_t
    private var inFlight = false
    /// The last request's params. Kept so the next request refills the same hash table instead of
    /// allocating one (only the strings are new); a caller still holding the old value keeps it
    /// intact, copy-on-write.
    private var paramStorage: [String: String] = [:]
    /// Large writes as 64 KiB records straight to the connection (FastCGIOutput), unless the
    /// environment says `X2S3_FASTCGI_RECORDS=libfcgi`.
    private let useDirectRecords: Bool

    /// Prepares to accept on `listenFD` (0 under spawn-fcgi; a socket opened by `ListenSocket`
    /// otherwise). Wraps `FCGX_Init` and `FCGX_InitRequest` (with `FCGI_FAIL_ACCEPT_ON_INTR`).
    public init(listenFD: Int32) throws(FastCGIError) {
        let initResult = FCGX_Init()
        guard initResult == 0 else { throw .library(call: "FCGX_Init", code: initResult) }
        let flags = try systemCall("fcntl", "F_GETFL on fd \(listenFD)") { fcntl(listenFD, F_GETFL) }
        if flags & O_NONBLOCK == 0 {
            // Several workers share the socket: the losers of a wake-up must get EAGAIN and go back
            // to ppoll (where SIGTERM can reach them), not block in accept with signals blocked.
            try systemCall("fcntl", "F_SETFL O_NONBLOCK on fd \(listenFD)") {
                fcntl(listenFD, F_SETFL, flags | O_NONBLOCK)
            }
        }
        var mask = sigset_t()
        pthread_sigmask(SIG_SETMASK, nil, &mask)
        for signal in WorkerSignals.shutdownSignals { sigdelset(&mask, signal) }
        self.waitMask = mask
        self.listenFD = listenFD
        self.useDirectRecords = getenv("X2S3_FASTCGI_RECORDS").map { String(cString: $0) != "libfcgi" } ?? true
        self.raw = .allocate(capacity: 1)
        // Always 0: it only stores its arguments and zeroes the rest.
        _ = FCGX_InitRequest(raw, listenFD, FCGI_FAIL_ACCEPT_ON_INTR)
    }

    deinit {
        // Flushes and closes a request still in flight, then frees libfcgi's buffers and params.
        FCGX_Finish_r(raw)
        raw.deallocate()
    }

    /// Waits for the next request and accepts it. Returns `false` when a shutdown signal arrived
    /// while waiting (the caller should exit 0); throws when accepting fails for another reason.
    /// A request still in flight is finished first. Wraps `ppoll` and `FCGX_Accept_r`.
    public mutating func accept() throws(FastCGIError) -> Bool {
        if inFlight { finish() }
        while true {
            var pending = pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0)
            if ppoll(&pending, 1, nil, &waitMask) < 0 {
                let code = errno
                // The shutdown signals are the only ones with handlers (SIGPIPE and SIGHUP are
                // ignored), so EINTR means one of them was delivered.
                if code == EINTR { return false }
                throw .system(call: "ppoll", errno: code, context: "on fd \(listenFD)")
            }
            let result = FCGX_Accept_r(raw)
            if result == 0 {
                inFlight = true
                return true
            }
            // Another worker won the connection, or the peer gave up: wait again.
            if result == -EAGAIN || result == -EWOULDBLOCK || result == -ECONNABORTED || result == -EINTR {
                continue
            }
            throw .library(call: "FCGX_Accept_r", code: result)
        }
    }

    /// The request's params (CGI-style variables such as `REQUEST_URI`, `HTTP_HOST`), copied into
    /// Swift strings: nothing returned points into libfcgi's memory, which the next accept frees.
    /// With `names`, only those params are copied (the rest are skipped before any String is
    /// made). Reads `FCGX_Request.envp` (documented public).
    public mutating func params(only names: ParamNames? = nil) -> [String: String] {
        paramStorage.removeAll(keepingCapacity: true)
        guard inFlight, let envp = raw.pointee.envp else { return [:] }
        copyEnvironment(envp, only: names, into: &paramStorage)
        return paramStorage
    }

    /// Runs `body` with the request's response stream. The stream is valid only inside `body`.
    /// Reads `FCGX_Request.out` (documented public).
    public func withOutput<Result, Failure: Error>(
        _ body: (inout FastCGIOutput) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        precondition(inFlight, "withOutput outside an accepted request")
        // Direct records need the connection: FCGX_Request.ipcFd, which fcgiapp.h lists below
        // "Don't use anything below here". It is only read (never changed or closed), and only
        // while the request is in flight, when libfcgi itself writes to it; X2S3_FASTCGI_RECORDS=
        // libfcgi turns direct records off (the benchmark's comparison; see FastCGIOutput).
        let direct = useDirectRecords && raw.pointee.ipcFd >= 0
            ? (fd: raw.pointee.ipcFd, requestID: UInt16(truncatingIfNeeded: raw.pointee.requestId)) : nil
        var output = FastCGIOutput(stream: raw.pointee.out, direct: direct)
        return try body(&output)
    }

    /// Drops the connection without ending the request (no FCGI_END_REQUEST, unsent output
    /// discarded), for a response that failed after its head was sent. nginx then sees the
    /// upstream close early and cuts the client's response; a finished request with a short
    /// body would pass for a complete one and leave the client waiting for the rest.
    /// Wraps `FCGX_Free(request, 1)`.
    public mutating func abandon() {
        guard inFlight else { return }
        FCGX_Free(raw, 1)
        inFlight = false
    }

    /// Ends the request: flushes the output, sends FCGI_END_REQUEST, closes the connection
    /// (nginx opens one per request unless `fastcgi_keep_conn` is on). Call it as soon as the
    /// response is written, so nginx need not wait for the next accept. Wraps `FCGX_Finish_r`.
    public mutating func finish() {
        FCGX_Finish_r(raw)
        inFlight = false
    }
}

/// Copies a NULL-terminated `NAME=VALUE` array (libfcgi's envp, or the process environment) into a
/// dictionary, splitting at the first `=`; with `names`, only the variables it lists. Bytes that
/// are not UTF-8 are repaired (U+FFFD), never dropped, so a bad header cannot make a variable
/// vanish — except in `REQUEST_URI`, where they are percent-encoded instead (see `requestURI`).
func copyEnvironment(
    _ envp: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>, only names: ParamNames? = nil,
    into result: inout [String: String]
) {
    result.reserveCapacity(48)  // nginx's fastcgi_params sends ~20 variables plus the HTTP_* headers
    var cursor = envp
    while let entry = cursor.pointee {
        cursor += 1
        guard let equals = strchr(entry, Int32(UInt8(ascii: "="))) else { continue }
        let nameLength = entry.distance(to: equals)
        let valueLength = strlen(equals + 1)
        entry.withMemoryRebound(to: UInt8.self, capacity: nameLength + 1 + valueLength) { bytes in
            let nameBytes = UnsafeBufferPointer(start: bytes, count: nameLength)
            let name: String
            if let names {
                guard let listed = names.match(nameBytes) else { return }
                name = listed
            } else {
                name = String(decoding: nameBytes, as: UTF8.self)
            }
            let valueBytes = UnsafeBufferPointer(start: bytes + nameLength + 1, count: valueLength)
            result[name] = name == "REQUEST_URI" ? requestURI(valueBytes) : String(decoding: valueBytes, as: UTF8.self)
        }
    }
}

/// A raw request target as text. Raw bytes that are not UTF-8 are percent-encoded rather than
/// repaired: the request parser then decodes them and refuses the key (400 InvalidURI), where
/// U+FFFD would have silently named a different key (found by the bad-input catalogue).
func requestURI(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
    // Almost every target is ASCII: valid as is, and String(validating:) is generic code that
    // is not specialized here (a runtime metadata lookup per request).
    if !bytes.contains(where: { $0 >= 0x80 }) { return String(decoding: bytes, as: UTF8.self) }
    if let valid = String(validating: bytes, as: UTF8.self) { return valid }
    let hex = Array("0123456789ABCDEF".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count * 3)
    for b in bytes {
        if b < 0x80 {
            out.append(b)
        } else {
            out += [UInt8(ascii: "%"), hex[Int(b >> 4)], hex[Int(b & 15)]]
        }
    }
    return String(decoding: out, as: UTF8.self)
}
