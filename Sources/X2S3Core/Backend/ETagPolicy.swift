import Posix

/// Decides the ETag of a file: the cheap (mtime, size) tag by default, or — with
/// `calculate_etags` — the content MD5, computed once per file version and remembered in a
/// `user.x2s3.md5` extended attribute (keyed by size and mtime) where the filesystem allows.
struct ETagPolicy: Sendable {
    let calculate: Bool

    func etag(for fd: FileDescriptor, stat: FileStat) -> String {
        let mtime = Timestamp(seconds: stat.mtimeSeconds, nanoseconds: stat.mtimeNanoseconds)
        guard calculate else { return ObjectHeaders.cheapETag(size: stat.size, mtime: mtime) }
        return ContentETag.md5ETag(fd: fd, stat: stat) ?? ObjectHeaders.cheapETag(size: stat.size, mtime: mtime)
    }
}
