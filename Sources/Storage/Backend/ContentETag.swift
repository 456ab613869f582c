import Posix
import S3Protocol

/// Content-MD5 ETags for `calculate_etags: true`. Each file version is hashed once: the
/// digest is stored in the `user.x2s3.md5` xattr together with the size and mtime it belongs
/// to, so other workers, restarts and listings reuse it; where xattrs are refused
/// (read-only mounts), a per-process cache keeps it for this worker.
enum ContentETag {
    static let attribute = "user.x2s3.md5"

    static func md5ETag(fd: FileDescriptor, stat: FileStat) -> String? {
        let stamp = "\(stat.size):\(stat.mtimeSeconds).\(stat.mtimeNanoseconds):"
        if let stored = fd.extendedAttribute(attribute), let text = String(validating: stored, as: UTF8.self),
           text.hasPrefix(stamp), text.utf8.count == stamp.utf8.count + 32 {
            return "\"\(text.dropFirst(stamp.count))\""
        }
        var md5 = MD5()
        // SAFETY: the buffer is freed by the defer below, and each slice handed on covers the n bytes pread
        //  filled.
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        var offset: UInt64 = 0
        while true {
            guard let n = try? fd.read(into: buffer, at: offset) else { return nil }
            if n == 0 { break }
            md5.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            offset += UInt64(n)
        }
        // The file changed while we read it: this digest belongs to no version.
        guard offset == stat.size, let after = try? fd.stat(),
              after.size == stat.size, after.mtimeSeconds == stat.mtimeSeconds,
              after.mtimeNanoseconds == stat.mtimeNanoseconds else { return nil }
        let hex = MD5.hex(md5.finalize())
        fd.setExtendedAttribute(attribute, Array((stamp + hex).utf8))
        return "\"\(hex)\""
    }
}
