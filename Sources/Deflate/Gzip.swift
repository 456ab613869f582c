import CZlib

/// gzip (RFC 1952) encoding of whole in-memory documents, through zlib.
public enum Gzip {
    /// The gzip encoding of `input`, or nil when zlib fails (the caller then sends it as is).
    /// Level 6 is zlib's default: HTML and XML listings shrink 5–10x, in about a millisecond per 100 KB.
    public static func compress(_ input: [UInt8], level: Int32 = 6) -> [UInt8]? {
        var stream = z_stream()
        // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
        guard deflateInit2_(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                            zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return nil }
        defer { deflateEnd(&stream) }
        // deflateBound covers the worst case, so one Z_FINISH call always completes.
        var out = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(input.count))))
        // SAFETY: both buffers are used only inside these closures, and zlib reads next_in/writes next_out
        //  only during deflate() below; the stream is ended before they return.
        let status = input.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
                stream.avail_in = uInt(source.count)
                stream.next_out = target.baseAddress
                stream.avail_out = uInt(target.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { return nil }
        out.removeLast(Int(stream.avail_out))
        return out
    }
}
