internal import CFastCGI
import Glibc
import Posix
import Escaping

/// The one owner of a worker's libfcgi requests: accept a request, read its params, write the
/// response, finish, repeat. One per worker process; `deinit` releases everything libfcgi holds.
///
/// Kept connections: when nginx keeps FastCGI connections open (`keepalive` in the upstream
/// block, `fastcgi_keep_conn on`), a finished request leaves its connection open and nginx
/// sends later requests on it. A plain libfcgi loop then blocks reading that one connection
/// while new connections wait unanswered in the listen queue — which is why upstream keepalive
/// used to be unsafe with libfcgi. Here each connection has its own `FCGX_Request` (a slot), and
/// the wait is one `ppoll` over the listening socket and every kept connection: whichever has a
/// request is served next (round robin among those ready, so neither kind starves), and a
/// worker is never stuck on an idle connection. A request that may take long (a large body, an
/// upstream S3 call, a listing) first closes this worker's idle connections
/// (`FastCGIOutput.releaseIdleConnections`), so nginx sends the next requests to free workers
/// instead of queueing them behind it; nginx retries a request that meets a kept connection
/// closing, on a fresh one.
///
/// Each `FCGX_Request` lives on the heap because libfcgi's streams keep a pointer back to it: it
/// must not move, which a value stored inline in a (movable) Swift struct could.
///
/// Waiting for a request: the listening socket is made non-blocking and the wait happens in
/// `ppoll` with the shutdown signals (see `WorkerSignals`) unblocked for the duration of the wait
/// only. So SIGTERM ends an idle worker at once, while a worker that is writing a response never
/// sees EINTR (libfcgi does not retry it and would cut the response): the signal stays pending
/// until the request is finished and the next wait begins — the in-flight request drains.
public struct FastCGIRequest: ~Copyable {
    /// Every connection slot ever used; a slot is free (`ipcFd < 0`), kept (open, between
    /// requests) or the one in flight.
    // SAFETY: each slot is allocated here, initialised by FCGX_InitRequest, never moved (libfcgi's streams
    //  point back at it) and deallocated only in deinit. ipcFd and requestId are fields fcgiapp.h lists under
    //  "Don't use anything below here": they are read, never written.
    private var slots: [UnsafeMutablePointer<FCGX_Request>] = []
    /// The slot whose request is being answered.
    // SAFETY: one of slots, or nil.
    private var current: UnsafeMutablePointer<FCGX_Request>?
    /// When each slot last took a request (a count of requests), to close the least recently
    /// used connection first at the limit.
    private var lastUse: [Int] = []
    /// Requests accepted so far; also where the next round-robin scan over ready descriptors starts.
    private var rotor = 0
    private let listenFD: Int32
    /// The signal mask in force while waiting: the process mask minus the shutdown signals.
    private var waitMask: sigset_t
    /// The last request's params. Kept so the next request refills the same hash table instead of
    /// allocating one (only the strings are new); a caller still holding the old value keeps it
    /// intact, copy-on-write.
    private var paramStorage: [String: String] = [:]
    /// Large writes as 64 KiB records straight to the connection (FastCGIOutput), unless the
    /// environment says `X2S3_FASTCGI_RECORDS=libfcgi`.
    private let useDirectRecords: Bool
    /// For file bodies sent with splice (FastCGIOutput.sendFile), with direct records only.
    private let splicePipe = SplicePipe()

    /// Most connections one worker keeps open between requests; past it, accepting a new one
    /// closes an idle one (nginx's `keepalive N` is per nginx worker, so the total it may try
    /// to keep grows with its worker count).
    public static let maxKeptConnections = 128

    /// Prepares to accept on `listenFD` (0 under spawn-fcgi; a socket opened by `ListenSocket`
    /// otherwise). Wraps `FCGX_Init`.
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
    }

    deinit {
        // Flushes and ends a request still in flight, closes every connection, frees libfcgi's
        // buffers and params.
        if let current { FCGX_Finish_r(current) }
        for slot in slots {
            closeConnection(slot)
            slot.deallocate()
        }
    }

    /// Waits for the next request, on a kept connection or a new one, and accepts it. Returns
    /// `false` when a shutdown signal arrived while waiting (the caller should exit 0); throws
    /// when accepting fails for another reason. A request still in flight is finished first.
    /// Wraps `ppoll` and `FCGX_Accept_r`.
    public mutating func accept() throws(FastCGIError) -> Bool {
        if current != nil { finish() }
        var waiting: [pollfd] = []
        var owners: [Int] = []
        while true {
            waiting.removeAll(keepingCapacity: true)
            owners.removeAll(keepingCapacity: true)
            waiting.append(pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0))
            owners.append(-1)
            // SAFETY: slots are valid (see slots); ipcFd is only read.
            for (index, slot) in slots.enumerated() where slot.pointee.ipcFd >= 0 {
                waiting.append(pollfd(fd: slot.pointee.ipcFd, events: Int16(POLLIN), revents: 0))
                owners.append(index)
            }
            do {
                _ = try valueOrErrno(retryOnInterrupt: false) { ppoll(&waiting, nfds_t(waiting.count), nil, &waitMask) }
            } catch {
                // The shutdown signals are the only ones with handlers (SIGPIPE and SIGHUP are
                // ignored), so EINTR means one of them was delivered.
                if error == .interrupted { return false }
                throw .system(call: "ppoll", errno: error.rawValue, context: "on fd \(listenFD)")
            }
            // ppoll reports ready descriptors ahead of a pending signal (it is delivered only
            // when nothing is ready), so under steady load a signal that came while a response
            // was written would wait for a quiet moment that may never come.
            if shutdownPending() { return false }
            let start = rotor % waiting.count
            rotor &+= 1
            guard let ready = (0..<waiting.count).lazy.map({ (start + $0) % waiting.count })
                .first(where: { waiting[$0].revents != 0 }) else { continue }
            // A kept connection with a request (or closed by nginx: libfcgi then closes it and
            // tries the listening socket, which may yield a new connection or EAGAIN).
            let index = owners[ready] >= 0 ? owners[ready] : freeSlot()
            let result = FCGX_Accept_r(slots[index])
            if result == 0 {
                current = slots[index]
                lastUse[index] = rotor
                return true
            }
            // Another worker won the connection, or the peer gave up: wait again.
            if result == -EAGAIN || result == -EWOULDBLOCK || result == -ECONNABORTED || result == -EINTR {
                continue
            }
            throw .library(call: "FCGX_Accept_r", code: result)
        }
    }

    /// Whether a shutdown signal arrived (and is held blocked) since the last wait.
    /// Wraps `sigpending(2)`.
    private func shutdownPending() -> Bool {
        var pending = sigset_t()
        guard sigpending(&pending) == 0 else { return false }
        return WorkerSignals.shutdownSignals.contains { sigismember(&pending, $0) == 1 }
    }

    /// A slot without a connection, for accepting a new one: a free slot, a new one, or (at
    /// the limit) the least recently used idle one, whose connection is closed first: nginx
    /// reuses its most recently used connections first, so that one is the least likely to be
    /// carrying a request already.
    private mutating func freeSlot() -> Int {
        // SAFETY: slots are valid (see slots); ipcFd is only read.
        if let free = slots.firstIndex(where: { $0.pointee.ipcFd < 0 }) { return free }
        if slots.count < Self.maxKeptConnections {
            let slot = UnsafeMutablePointer<FCGX_Request>.allocate(capacity: 1)
            // Always 0: it only stores its arguments and zeroes the rest.
            _ = FCGX_InitRequest(slot, listenFD, FCGI_FAIL_ACCEPT_ON_INTR)
            slots.append(slot)
            lastUse.append(rotor)
            return slots.count - 1
        }
        let victim = lastUse.indices.min { lastUse[$0] < lastUse[$1] }!
        closeConnection(slots[victim])
        return victim
    }

    /// The request's params (CGI-style variables such as `REQUEST_URI`, `HTTP_HOST`), copied into
    /// Swift strings: nothing returned points into libfcgi's memory, which the next accept frees.
    /// With `names`, only those params are copied (the rest are skipped before any String is
    /// made). Reads `FCGX_Request.envp` (documented public).
    public mutating func params(only names: ParamNames? = nil) -> [String: String] {
        paramStorage.removeAll(keepingCapacity: true)
        guard let envp = current?.pointee.envp else { return [:] }
        copyEnvironment(envp, only: names, into: &paramStorage)
        return paramStorage
    }

    /// Every param of the request, copied afresh: for the rare request that needs more than
    /// `params(only:)` gave, while its output is open.
    public func everyParam() -> [String: String] {
        var all: [String: String] = [:]
        guard let envp = current?.pointee.envp else { return all }
        copyEnvironment(envp, into: &all)
        return all
    }

    /// Runs `body` with the request's response stream. The stream is valid only inside `body`.
    /// Reads `FCGX_Request.out` (documented public).
    public func withOutput<Result, Failure: Error>(
        _ body: (inout FastCGIOutput) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        guard let current else { preconditionFailure("withOutput outside an accepted request") }
        // Direct records and idle connections need the connection: FCGX_Request.ipcFd, which
        // fcgiapp.h lists below "Don't use anything below here". It is only read, never changed;
        // connections are closed through FCGX_Free. X2S3_FASTCGI_RECORDS=libfcgi turns direct
        // records off (the benchmark's comparison; see FastCGIOutput).
        // SAFETY: current is a valid slot while a request is in flight; ipcFd and requestId are only read,
        //  and libfcgi sets both in FCGX_Accept_r before the request is handed out.
        let direct = useDirectRecords && current.pointee.ipcFd >= 0
            ? (fd: current.pointee.ipcFd, requestID: UInt16(truncatingIfNeeded: current.pointee.requestId)) : nil
        let idle = slots.filter { $0 != current && $0.pointee.ipcFd >= 0 }
        var output = FastCGIOutput(stream: current.pointee.out, direct: direct, idle: idle,
                                   pipe: direct == nil ? nil : splicePipe)
        return try body(&output)
    }

    /// Drops the connection without ending the request (no FCGI_END_REQUEST, unsent output
    /// discarded), for a response that failed after its head was sent. nginx then sees the
    /// upstream close early and cuts the client's response; a finished request with a short
    /// body would pass for a complete one and leave the client waiting for the rest.
    /// Wraps `FCGX_Free(request, 1)`.
    public mutating func abandon() {
        guard let current else { return }
        closeConnection(current)
        self.current = nil
    }

    /// Ends the request: flushes the output and sends FCGI_END_REQUEST. The connection stays
    /// open when nginx asked to keep it (`fastcgi_keep_conn on`), nothing failed and the
    /// request's input was read to its end; nginx then sends another request on it or closes
    /// it. Call it as soon as the response is written, so nginx need not wait for the next
    /// accept. With `keepConnection: false` the connection is closed whatever nginx asked.
    /// Wraps `FCGX_Finish_r`.
    public mutating func finish(keepConnection: Bool = true) {
        guard let current else { return }
        // Drained before FCGI_END_REQUEST goes out, never after: nginx sends the next request on
        // a kept connection only once it has END_REQUEST, so nothing read here can belong to
        // that request (libfcgi's input buffer, freed by FCGX_Finish_r, would swallow it).
        let drained = Self.drainInput(current)
        FCGX_Finish_r(current)
        if !drained || !keepConnection { closeConnection(current) }
        self.current = nil
    }

    /// Most request body bytes read (and discarded) so that a connection can be kept; nginx
    /// forwards at most `client_max_body_size` (16k in the shipped templates).
    static let maxDrainedInput = 1 << 20

    /// Reads the rest of the request's FCGI_STDIN, up to its end record. x2s3 never reads a
    /// body, and libfcgi does not skip one: on a kept connection whatever is left unread is
    /// parsed as the next request's records, so a client's body could smuggle a request of its
    /// choosing or a record length that holds the worker reading forever (libfcgi's first read
    /// takes 8 KiB; a body's tail past it stays in the socket). Without a body the end record
    /// is normally in libfcgi's buffer already: no syscall. False when the input did not end
    /// cleanly within `maxDrainedInput` bytes: the connection must then not be kept.
    /// Wraps `FCGX_GetStr`, `FCGX_HasSeenEOF`, `FCGX_GetError`.
    private static func drainInput(_ request: UnsafeMutablePointer<FCGX_Request>) -> Bool {
        guard let input = request.pointee.in else { return true }
        // SAFETY: libfcgi writes at most scratch.count bytes into the scratch buffer, which lives for the
        //  whole loop.
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 4096) { scratch in
            var total = 0
            while total <= maxDrainedInput {
                let n = FCGX_GetStr(scratch.baseAddress, Int32(scratch.count), input)
                if n <= 0 { break }
                total += Int(n)
            }
            return total <= maxDrainedInput && FCGX_HasSeenEOF(input) != 0 && FCGX_GetError(input) == 0
        }
    }
}

/// Closes a slot's connection, if it has one, and frees what libfcgi holds for it.
/// `shutdown(SHUT_RDWR)` first: libfcgi's own close shuts down the write side and then waits up
/// to 2 s for the peer to close (draining its input), which on a connection nginx has just sent
/// a request on would stall the worker; with the read side shut down too, that wait ends at once.
func closeConnection(_ slot: UnsafeMutablePointer<FCGX_Request>) {
    // SAFETY: slot is one of FastCGIRequest's valid slots; ipcFd is only read, and libfcgi closes it in
    //  FCGX_Free.
    if slot.pointee.ipcFd >= 0 { shutdown(slot.pointee.ipcFd, Int32(SHUT_RDWR)) }
    FCGX_Free(slot, 1)
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
        // SAFETY: entry is a NUL-terminated NAME=VALUE string from envp, valid for this call: the name is the
        //  bytes before '=' and the value the strlen after it, all inside the string. Nothing that points
        //  into it outlives the call.
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
    return PercentEncoding.encode(bytes: bytes, keeping: .ascii)
}
