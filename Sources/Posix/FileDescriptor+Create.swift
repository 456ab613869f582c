internal import Glibc

/// Creating, writing, renaming and removing files: what a private cache directory needs.
/// Names are single components inside a directory this process made, so plain `*at` calls
/// (no `RESOLVE_BENEATH`) are enough.
extension FileDescriptor {
    /// Makes the directory `path` (and its missing parents) with `mode`; an existing one is
    /// fine. Wraps `mkdir(2)`.
    public static func makeDirectories(_ path: String, mode: UInt32) throws(Errno) {
        var partial = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            partial += "/" + component
            if mkdir(partial, mode_t(mode)) != 0 && errno != EEXIST { throw Errno.current }
        }
    }

    /// Opens `name` in this directory for reading, not following a symlink. Wraps `openat(2)`
    /// with `O_RDONLY | O_NOFOLLOW | O_CLOEXEC`.
    public func openReadOnly(at name: String) throws(Errno) -> FileDescriptor {
        let newFD = try withRawValue { (fd) throws(Errno) -> Int32 in try valueOrErrno { openat(fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) } }
        return FileDescriptor(owning: newFD)
    }

    /// Creates `name` in this directory for writing; fails (EEXIST) if it exists. Wraps
    /// `openat(2)` with `O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC`.
    public func createExclusive(at name: String, mode: UInt32) throws(Errno) -> FileDescriptor {
        let newFD = try withRawValue { (fd) throws(Errno) -> Int32 in
            try valueOrErrno { openat(fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode_t(mode)) }
        }
        return FileDescriptor(owning: newFD)
    }

    /// Writes all of `bytes`, retrying short writes. Wraps `write(2)`.
    public func writeAll(_ bytes: UnsafeRawBufferPointer) throws(Errno) {
        guard let base = bytes.baseAddress else { return }
        var done = 0
        while done < bytes.count {
            let n = try withRawValue { (fd) throws(Errno) -> Int in try valueOrErrno { write(fd, base + done, bytes.count - done) } }
            if n == 0 { throw Errno.ioError }
            done += n
        }
    }

    /// Atomically replaces `to` with `from`, both in this directory. Wraps `renameat(2)`.
    public func rename(_ from: String, to: String) throws(Errno) {
        _ = try withRawValue { (fd) throws(Errno) -> Int32 in try valueOrErrno { renameat(fd, from, fd, to) } }
    }

    /// Removes the file `name` from this directory. Wraps `unlinkat(2)`.
    public func remove(_ name: String) throws(Errno) {
        _ = try withRawValue { (fd) throws(Errno) -> Int32 in try valueOrErrno { unlinkat(fd, name, 0) } }
    }
}

/// Who this process is.
public enum CurrentProcess {
    /// The process id, for unique temporary names. Wraps `getpid(2)`.
    public static var id: Int32 { getpid() }
    /// The effective user id, for naming and checking a private cache directory. Wraps `geteuid(2)`.
    public static var effectiveUser: UInt32 { UInt32(geteuid()) }
}
