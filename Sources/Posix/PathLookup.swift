internal import Glibc
internal import CPosix

/// Lookups by path name, for the few places that must see what a path names *now* (a bucket
/// root replaced or re-pointed under a running server), not what an open descriptor holds.
public enum PathLookup {
    /// Metadata of what `path` names, following symlinks. Wraps `fstatat(2)` (`AT_FDCWD`).
    public static func stat(_ path: String) throws(Errno) -> FileStat {
        var st = Glibc.stat()
        _ = try valueOrErrno { fstatat(AT_FDCWD, path, &st, 0) }
        return FileStat(st)
    }

    /// The canonical absolute path (no symlinks, `.` or `..`). Wraps `realpath(3)`.
    public static func realPath(_ path: String) throws(Errno) -> String {
        guard let resolved = realpath(path, nil) else { throw Errno.current }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Whether this process may read what `path` names (real ids, symlinks followed).
    /// Wraps `access(2)` with `R_OK`.
    public static func checkReadable(_ path: String) throws(Errno) {
        _ = try valueOrErrno { access(path, R_OK) }
    }

    /// The working directory, or nil when it cannot be named (removed, or too long).
    /// Wraps `getcwd(3)`.
    public static func workingDirectory() -> String? {
        guard let cwd = getcwd(nil, 0) else { return nil }
        defer { free(cwd) }
        return String(cString: cwd)
    }
}
