internal import CFastCGI
import Glibc
import Posix

/// The response stream of one accepted request (FastCGI stdout).
///
/// Valid only inside `FastCGIRequest.withOutput`: libfcgi frees the stream when the request
/// finishes, so the value must not be kept beyond that closure.
///
/// Small writes (the head, short bodies) go through libfcgi, which buffers 8 KiB and frames it
/// into FCGI_STDOUT records. A write of `directThreshold` bytes or more (a file buffer) is sent
/// as full-size records straight to the connection instead: libfcgi's fixed 8 KiB buffer makes
/// it one 8 KiB record and one write(2) per 8 KiB, which capped large objects well below
/// what nginx can take (docs/bench.md measures both). libfcgi's buffer is flushed first, so
/// records stay in order, and `FCGX_Finish_r` still ends the stream and the request.
public struct FastCGIOutput {
    // SAFETY: libfcgi's stream for the request in flight; FastCGIRequest.withOutput lends this value only
    //  while that request is current, and libfcgi frees the stream only at finish.
    let stream: UnsafeMutablePointer<FCGX_Stream>
    /// The connection and request id for direct records; nil writes everything through libfcgi.
    let direct: (fd: Int32, requestID: UInt16)?
    /// This worker's other connections, kept open by nginx and idle (see `FastCGIRequest`).
    // SAFETY: slots owned by FastCGIRequest, which outlives this value (see withOutput); only passed to
    //  closeConnection.
    private var idle: [UnsafeMutablePointer<FCGX_Request>]
    /// For `sendFile`; nil sends files by copying.
    let pipe: SplicePipe?

    /// Writes of at least this many bytes bypass libfcgi's 8 KiB buffer.
    static let directThreshold = 8192
    /// The largest FCGI record content (the length field is 16 bits), kept 8-byte aligned.
    static let maxRecordContent = 65528

    init(stream: UnsafeMutablePointer<FCGX_Stream>, direct: (fd: Int32, requestID: UInt16)?,
         idle: [UnsafeMutablePointer<FCGX_Request>] = [], pipe: SplicePipe? = nil) {
        self.stream = stream
        self.direct = direct
        self.idle = idle
        self.pipe = pipe
    }

    /// Closes this worker's idle kept connections, before work that may take long: nginx would
    /// otherwise send new requests down them, to wait behind this one while other workers are
    /// free. nginx opens fresh connections (which any worker can accept) and retries a request
    /// it had just sent on one of these.
    public mutating func releaseIdleConnections() {
        for slot in idle { closeConnection(slot) }
        idle.removeAll()
    }

    /// Lets the connection hold more of a long body in the kernel (SO_SNDBUF, capped by the
    /// system's net.core.wmem_max): the worker then blocks and wakes far less often while nginx
    /// drains it (docs/bench.md). Unix-domain connections only: on TCP, setting it would turn
    /// off the kernel's own autotuning of the buffer. Wraps `getsockopt(2)`/`setsockopt(2)`.
    public mutating func expectLongBody() {
        guard let direct else { return }
        var domain: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(direct.fd, SOL_SOCKET, SO_DOMAIN, &domain, &length) == 0, domain == AF_UNIX else { return }
        var size = Self.longBodySendBuffer
        _ = setsockopt(direct.fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Asked for by `expectLongBody` (the kernel doubles it for its bookkeeping).
    static let longBodySendBuffer: Int32 = 1 << 20

    /// Writes all of `bytes`, or throws `.clientGone` when the peer has gone away (libfcgi then
    /// marks the stream as failed and every later write fails too). Wraps `FCGX_PutStr`, or
    /// `FCGX_FFlush` and `writev(2)` for large writes.
    public mutating func write(_ bytes: UnsafeRawBufferPointer) throws(FastCGIError) {
        guard var next = bytes.baseAddress else { return }
        if let direct, bytes.count >= Self.directThreshold {
            guard FCGX_FFlush(stream) == 0 else { throw .clientGone }
            try Self.writeRecords(bytes, fd: direct.fd, requestID: direct.requestID)
            return
        }
        var remaining = bytes.count
        // FCGX_PutStr takes an int count: feed huge buffers in 1 GiB slices.
        while remaining > 0 {
            let count = Int32(min(remaining, 1 << 30))
            // SAFETY: FCGX_PutStr only reads count bytes from next, all inside the caller's buffer; the CChar
            //  binding is a byte view of bytes already bound as UInt8.
            let written = FCGX_PutStr(next.assumingMemoryBound(to: CChar.self), count, stream)
            guard written == count else { throw .clientGone }
            next += Int(count)
            remaining -= Int(count)
        }
    }

    /// Sends what libfcgi has buffered to the peer now. Wraps `FCGX_FFlush`.
    public mutating func flush() throws(FastCGIError) {
        guard FCGX_FFlush(stream) == 0 else { throw .clientGone }
    }

    /// An FCGI_STDOUT record header at `h` (8 bytes): version 1, type 6, request id, content
    /// length, no padding, reserved. The one place a record header is built.
    static func recordHeader(at h: UnsafeMutablePointer<UInt8>, requestID: UInt16, length: Int) {
        h[0] = 1
        h[1] = 6
        h[2] = UInt8(requestID >> 8)
        h[3] = UInt8(requestID & 0xFF)
        h[4] = UInt8(length >> 8)
        h[5] = UInt8(length & 0xFF)
        h[6] = 0
        h[7] = 0
    }

    /// `recordHeader(at:…)` into the first 8 bytes of `h`.
    static func recordHeader(_ h: inout [UInt8], requestID: UInt16, length: Int) {
        precondition(h.count >= 8, "a record header is 8 bytes")
        // SAFETY: the array holds at least 8 bytes (checked above) and the pointer is used only during the
        //  call.
        h.withUnsafeMutableBufferPointer { buffer in
            if let base = buffer.baseAddress { recordHeader(at: base, requestID: requestID, length: length) }
        }
    }

    /// FCGI_STDOUT records of up to 64 KiB: all headers and contents of one write in one `writev(2)`.
    /// Headers and iovecs live in temporary buffers (on the stack for up to a few records):
    /// arrays here cost three allocations and a runtime metadata lookup per write.
    static func writeRecords(_ bytes: UnsafeRawBufferPointer, fd: Int32, requestID: UInt16) throws(FastCGIError) {
        guard let source = bytes.baseAddress else { return }
        let count = (bytes.count + maxRecordContent - 1) / maxRecordContent
        // SAFETY: the temporary headers and iovecs live until the closures return, after every writev that
        //  reads them; the iovecs point into them and into bytes, which the caller keeps valid for the call.
        let ok = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 8 * count) { headers in
            withUnsafeTemporaryAllocation(of: iovec.self, capacity: 2 * count) { parts in
                guard let headerBase = headers.baseAddress else { return false }
                for i in 0..<count {
                    let offset = i * maxRecordContent
                    let length = min(maxRecordContent, bytes.count - offset)
                    let h = headerBase + 8 * i
                    h.initialize(repeating: 0, count: 8)
                    recordHeader(at: h, requestID: requestID, length: length)
                    parts[2 * i] = iovec(iov_base: UnsafeMutableRawPointer(h), iov_len: 8)
                    parts[2 * i + 1] = iovec(iov_base: UnsafeMutableRawPointer(mutating: source + offset), iov_len: length)
                }
                // IOV_MAX is 1024: 512 records, 32 MiB per call at most.
                var first = 0
                while first < parts.count {
                    let n = min(1024, parts.count - first)
                    guard writeAll(UnsafeMutableBufferPointer(rebasing: parts[first..<(first + n)]), fd: fd) else { return false }
                    first += n
                }
                return true
            }
        }
        guard ok else { throw .clientGone }
    }

    /// `writev` until every byte of `parts` is written (partial writes resumed, EINTR retried).
    private static func writeAll(_ parts: UnsafeMutableBufferPointer<iovec>, fd: Int32) -> Bool {
        guard let base = parts.baseAddress else { return true }
        var first = 0
        while first < parts.count {
            guard var left = try? valueOrErrno({ writev(fd, base + first, Int32(parts.count - first)) }) else {
                return false
            }
            while first < parts.count, left >= parts[first].iov_len {
                left -= parts[first].iov_len
                first += 1
            }
            if first < parts.count, left > 0 {
                parts[first].iov_base += left
                parts[first].iov_len -= left
            }
        }
        return true
    }
}
