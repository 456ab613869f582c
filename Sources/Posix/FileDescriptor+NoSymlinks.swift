internal import Glibc
internal import CPosix

extension FileDescriptor {
    /// Like `openBeneath`, but any symlink anywhere in `relativePath` is refused (ELOOP), even
    /// one that stays inside this directory. A path opened this way names the file by itself:
    /// another process (nginx, after an `X-Accel-Redirect`) re-opening it by that path with its
    /// own no-symlink check reaches the same file unless the tree is renamed in between.
    /// Wraps `openat2(2)` with `RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS`.
    public func openBeneathNoSymlinks(_ relativePath: String) throws(Errno) -> FileDescriptor {
        let flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK
        let newFD = try withRawValue { (dirFD: Int32) throws(Errno) -> Int32 in
            try valueOrErrno { cposix_open_beneath_nofollow(dirFD, relativePath, flags) }
        }
        return FileDescriptor(owning: newFD)
    }
}
