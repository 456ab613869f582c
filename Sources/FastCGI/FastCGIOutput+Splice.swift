internal import CFastCGI
import Glibc
public import Posix

extension FastCGIOutput {
    /// Sends `count` bytes of the regular `file` from `offset` as FCGI_STDOUT records, moved
    /// with splice(2) through a pipe (see `SplicePipe`): record headers are written into the
    /// pipe between the file's pages, and each pipeful goes to the connection in one splice.
    /// Returns false, having sent nothing, when the sink cannot splice (no direct records, no
    /// pipe, or a file system without splice support): the caller then copies. Throws
    /// `.clientGone` when the connection fails, `.system` when the file ends early or cannot be
    /// read; either way the response is cut.
    public mutating func sendFile(_ file: FileDescriptor, offset: UInt64, count: UInt64) throws(FastCGIError) -> Bool {
        guard let direct, let pipe, pipe.open() != nil else { return false }
        guard FCGX_FFlush(stream) == 0 else { throw .clientGone }
        // The descriptor is lent for the splice calls only; the file's owner outlives them.
        return try file.withRawValue { fd throws(FastCGIError) in
            try Self.spliceRecords(from: fd, offset: offset, count: count, to: direct.fd, requestID: direct.requestID,
                                   through: pipe)
        }
    }

    /// `sendFile` once libfcgi's buffer is flushed: the records to `connection`, through `pipe`.
    static func spliceRecords(from fd: Int32, offset: UInt64, count: UInt64, to connection: Int32, requestID: UInt16,
                              through pipe: SplicePipe) throws(FastCGIError) -> Bool {
        guard let ends = pipe.open() else { return false }
        // A pipe slot holds at most a page: a record takes one for its header, one per page of
        // content and one more when the content does not start on a page boundary. The pipe
        // must never fill while only this process reads it (splice would wait forever).
        let content = min(Self.maxRecordContent, (pipe.slots - 2) * 4096)
        let slotsPerRecord = (content + 4095) / 4096 + 2
        let recordsPerFill = max(1, pipe.slots / slotsPerRecord)
        var position = Int(offset)
        var remaining = count
        var first = true
        var header = [UInt8](repeating: 0, count: 8)
        while remaining > 0 {
            var filled = 0
            for _ in 0..<recordsPerFill where remaining > 0 {
                let length = Int(min(UInt64(content), remaining))
                Self.recordHeader(&header, requestID: requestID, length: length)
                // SAFETY: the header array outlives the closure, and write(2) only reads its 8 bytes during
                //  the call.
                let wrote = header.withUnsafeBytes { raw in
                    Result { () throws(Errno) in try valueOrErrno { Glibc.write(ends.write, raw.baseAddress, 8) } }
                }
                guard case .success(8) = wrote else {
                    pipe.reset()
                    let code = if case .failure(let error) = wrote { error.rawValue } else { EIO }
                    throw .system(call: "write", errno: code, context: "to the splice pipe")
                }
                var moved = 0
                while moved < length {
                    let n: Int
                    do {
                        n = try valueOrErrno {
                            var from = __off64_t(position)
                            return splice(fd, &from, ends.write, nil, length - moved, UInt32(X2S3_SPLICE_F_MOVE))
                        }
                    } catch {
                        pipe.reset()  // holds the header just written
                        if first, moved == 0, error.rawValue == EINVAL || error.rawValue == ENOSYS { return false }
                        throw .system(call: "splice", errno: error.rawValue, context: "from the file")
                    }
                    guard n > 0 else {
                        pipe.reset()
                        throw .system(call: "splice", errno: 0, context: "the file ended early")
                    }
                    first = false
                    moved += n
                    position += n
                }
                filled += 8 + length
                remaining -= UInt64(length)
            }
            while filled > 0 {
                let more = remaining > 0 ? UInt32(X2S3_SPLICE_F_MORE) : 0
                let n = try? valueOrErrno { splice(ends.read, nil, connection, nil, filled, UInt32(X2S3_SPLICE_F_MOVE) | more) }
                guard let n, n > 0 else {
                    pipe.reset()
                    throw .clientGone
                }
                filled -= n
            }
        }
        return true
    }
}
