internal import CFastCGI

/// The response stream of one accepted request (FastCGI stdout).
///
/// Valid only inside `FastCGIRequest.withOutput`: libfcgi frees the stream when the request
/// finishes, so the value must not be kept beyond that closure. It holds no buffer of its own:
/// libfcgi already buffers 8 KiB and frames it into FCGI_STDOUT records.
public struct FastCGIOutput {
    private let stream: UnsafeMutablePointer<FCGX_Stream>

    init(stream: UnsafeMutablePointer<FCGX_Stream>) {
        self.stream = stream
    }

    /// Writes all of `bytes`, or throws `.clientGone` when the peer has gone away (libfcgi then
    /// marks the stream as failed and every later write fails too). Wraps `FCGX_PutStr`.
    public mutating func write(_ bytes: UnsafeRawBufferPointer) throws(FastCGIError) {
        guard var next = bytes.baseAddress else { return }
        var remaining = bytes.count
        // FCGX_PutStr takes an int count: feed huge buffers in 1 GiB slices.
        while remaining > 0 {
            let count = Int32(min(remaining, 1 << 30))
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
}
