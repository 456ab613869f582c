internal import Glibc
internal import CPosix  // timespec is also visible through CPosix's headers; MemberImportVisibility wants the import (release build)

/// The real-time clock, for the few things that need calendar time (request signing).
/// Everything else takes times as parameters so tests can pin them.
public enum WallClock {
    /// Seconds since the epoch. Wraps `clock_gettime(CLOCK_REALTIME)`.
    public static func now() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec)
    }
}
