internal import CCurl

/// What libcurl's callbacks see of the current transfer. One per client, reset for each
/// request, so the unretained pointer handed to libcurl (`Unmanaged`) outlives every
/// transfer that could call back into it.
final class TransferState {
    /// Body bytes gathered for the consumer. libcurl hands the write callback at most 16 KiB
    /// at a time (CURL_MAX_WRITE_SIZE) whatever it received, and a 16 KiB write per syscall
    /// to the client side cost far more than one copy into here (docs/bench.md). Owned here,
    /// allocated once per client.
    // SAFETY: allocated in init, freed in deinit; every slice handed out is used only during a consumer call.
    let stage: UnsafeMutableRawBufferPointer
    /// Bytes in `stage` not yet handed to the consumer.
    var staged = 0
    /// The final (non-1xx) status, once its status line has been read.
    var status = 0
    /// Header fields of the final response, in arrival order.
    var headers: [(name: String, value: String)] = []
    /// The blank line after a final response's headers has been read.
    var headComplete = false
    /// The final head's body length (`HTTPResponse.contentLength`), once it is complete.
    var contentLength: UInt64?
    /// Why the final head was refused (its framing contradicts itself); the transfer was
    /// aborted by the header callback, which makes libcurl close the connection.
    var invalidHead: HTTPClientError?
    /// The write callback refused a chunk (no consumer yet) and libcurl paused receiving.
    var paused = false
    /// Receives body chunks while `HTTPResponse.readBody` runs; nil means "pause".
    // SAFETY: the buffer it receives is valid only during the call; consumers copy what they keep.
    var consumer: ((UnsafeRawBufferPointer) throws -> Void)?
    /// The consumer's error, which aborted the transfer.
    var consumerError: (any Error)?
    /// Set when libcurl reports the transfer finished, with its result.
    var result: CURLcode?
    /// When bytes last arrived (or the request went out, or the body was resumed); nil while
    /// still connecting. Drives the stall timeout.
    var lastActivity: ContinuousClock.Instant?
    /// The stall timeout fired (the transfer was abandoned by us, not by libcurl).
    var stalled = false

    init(stageCapacity: Int = 256 * 1024) {
        stage = .allocate(byteCount: max(1, stageCapacity), alignment: 16)
    }

    deinit { stage.deallocate() }

    func reset() {
        staged = 0
        status = 0
        headers = []
        headComplete = false
        contentLength = nil
        invalidHead = nil
        paused = false
        consumer = nil
        consumerError = nil
        result = nil
        lastActivity = nil
        stalled = false
    }

    /// CURLOPT_HEADERFUNCTION: one complete header line per call, status lines included.
    /// Interim (1xx) responses restart the collection, so only the final head is kept.
    /// Returning 0 for a head that is refused aborts the transfer (CURLE_WRITE_ERROR).
    static let headerCallback: x2s3_curl_data_callback = { data, size, count, context in
        let n = size * count
        guard let data, let context else { return n }
        // SAFETY: context is the TransferState HTTPClient registered, which outlives its handles; data holds
        //  size * count bytes for the duration of the callback.
        let state = Unmanaged<TransferState>.fromOpaque(context).takeUnretainedValue()
        state.lastActivity = .now
        let line = String(decoding: UnsafeRawBufferPointer(start: data, count: n), as: UTF8.self)
        return state.takeHeaderLine(line) ? n : 0
    }

    /// Takes one header line; false when it completes a final head whose framing is
    /// contradictory (see `invalidHead`).
    @discardableResult
    func takeHeaderLine(_ raw: String) -> Bool {
        var line = Substring(raw)
        // "\r\n" is one Character in Swift, so test for newlines, not for "\r" and "\n".
        while let last = line.last, last.isNewline { line = line.dropLast() }
        if line.hasPrefix("HTTP/") {
            let fields = line.split(separator: " ", maxSplits: 2)
            status = fields.count >= 2 ? Int(fields[1]) ?? 0 : 0
            headers = []
            headComplete = false
        } else if line.isEmpty {
            guard status >= 200 else { return true }
            headComplete = true
            do {
                contentLength = try HTTPResponse.contentLength(in: headers)
            } catch {
                invalidHead = error
                return false
            }
        } else if let colon = line.firstIndex(of: ":") {
            let name = line[..<colon].trimmingCharacters(in: " \t")
            let value = line[line.index(after: colon)...].trimmingCharacters(in: " \t")
            headers.append((String(name), String(value)))
        }
        return true
    }

    /// CURLOPT_WRITEFUNCTION: gathers body chunks in `stage` and hands the consumer a full
    /// stage at a time; `HTTPClient.drive` hands over the rest whenever libcurl has read all
    /// the socket had, so a trickling upstream is forwarded as it arrives. Without a consumer
    /// the transfer pauses, and libcurl keeps the chunk until `curl_easy_pause` resumes it. A
    /// consumer that throws stops the transfer: returning a short count makes libcurl abort
    /// with CURLE_WRITE_ERROR.
    static let writeCallback: x2s3_curl_data_callback = { data, size, count, context in
        let n = size * count
        guard let context else { return 0 }
        // SAFETY: context is the TransferState HTTPClient registered, which outlives its handles; data holds
        //  size * count bytes for the duration of the callback.
        let state = Unmanaged<TransferState>.fromOpaque(context).takeUnretainedValue()
        guard state.consumer != nil else {
            state.paused = true
            return x2s3_curl_writefunc_pause()
        }
        state.lastActivity = .now
        return state.take(UnsafeRawBufferPointer(start: data, count: n)) ? n : 0
    }

    /// Stages `chunk`, handing the stage to the consumer each time it fills. A chunk at least
    /// as large as the stage goes to the consumer uncopied. False when the consumer threw.
    func take(_ chunk: UnsafeRawBufferPointer) -> Bool {
        var rest = chunk
        while !rest.isEmpty {
            if staged == 0 && rest.count >= stage.count {
                return deliver(rest)
            }
            let n = min(rest.count, stage.count - staged)
            // SAFETY: n is at most the room left in stage and the bytes left in chunk, so both slices are in
            //  bounds.
            UnsafeMutableRawBufferPointer(rebasing: stage[staged..<(staged + n)]).copyMemory(from: UnsafeRawBufferPointer(rebasing: rest[..<n]))
            staged += n
            rest = UnsafeRawBufferPointer(rebasing: rest[n...])
            if staged == stage.count && !flush() { return false }
        }
        return true
    }

    /// Hands the staged bytes to the consumer. False when it threw (its error is kept).
    @discardableResult
    func flush() -> Bool {
        guard staged > 0, consumer != nil else { return consumerError == nil }
        let count = staged
        staged = 0
        // SAFETY: count bytes of stage were filled by take.
        return deliver(UnsafeRawBufferPointer(rebasing: stage[..<count]))
    }

    private func deliver(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let consumer else { return false }
        do {
            try consumer(bytes)
        } catch {
            consumerError = error
            return false
        }
        // After the consumer: time spent writing to a slow client is not an upstream stall.
        lastActivity = .now
        return true
    }
}

extension Substring {
    /// The text without leading and trailing characters from `set`.
    func trimmingCharacters(in set: String) -> Substring {
        var s = self
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return s
    }
}
