import Posix
import S3Protocol

/// Decides the ETag of a file: the cheap (mtime, size) tag by default, or — with
/// `calculate_etags` — the content MD5, computed once per file version and remembered in a
/// `user.x2s3.md5` extended attribute (keyed by size and mtime) where the filesystem allows.
struct ETagPolicy: Sendable {
    let calculate: Bool

    /// The ETag of a file whose content is reachable through `open`, called only for a content
    /// ETag (a listing stats thousands of files and opens none of them by default).
    func etag(stat: FileStat, open: () -> FileDescriptor?) -> String {
        if calculate, let fd = open(), let md5 = ContentETag.md5ETag(fd: fd, stat: stat) { return md5 }
        return ObjectHeaders.cheapETag(size: stat.size, mtime: Timestamp(seconds: stat.mtimeSeconds, nanoseconds: stat.mtimeNanoseconds))
    }

    func etag(for fd: FileDescriptor, stat: FileStat) -> String { etag(stat: stat) { fd } }
}
