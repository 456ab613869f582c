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
}

/// A clock that never jumps, for intervals (how long since a root was last checked).
public enum MonotonicClock {
    /// Milliseconds since an arbitrary start. Wraps `clock_gettime(CLOCK_MONOTONIC)`.
    public static func nowMilliseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}
