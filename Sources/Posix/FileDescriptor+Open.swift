internal import Glibc

extension FileDescriptor {
    /// Opens a small file by absolute or relative path for reading (credential files named
    /// in the config, not bucket content: those go through `openBeneath`). Symlinks are
    /// followed, as Kubernetes secret mounts need. Wraps `open(2)` with `O_RDONLY | O_CLOEXEC`.
    public static func openFile(_ path: String) throws(Errno) -> FileDescriptor {
        let fd = try valueOrErrno { open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY) }
        return FileDescriptor(owning: fd)
    }
}
