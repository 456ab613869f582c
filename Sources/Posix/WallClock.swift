internal import Glibc
// timespec comes in through the shim's headers in release builds (MemberImportVisibility).
internal import CPosix

/// The real-time clock, for the few things that need calendar time (request signing, the listing cache's racy-mtime window).
/// Everything else takes times as parameters so tests can pin them.
public enum WallClock {
    /// Seconds since the epoch. Wraps `clock_gettime(CLOCK_REALTIME)`.
    public static func now() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec)
    }

    /// Milliseconds since the epoch. Wraps `clock_gettime(CLOCK_REALTIME)`.
    public static func nowMilliseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}
