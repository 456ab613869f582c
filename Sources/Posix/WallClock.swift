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

/// A clock that never jumps, for intervals (how long since a root was last checked).
public enum MonotonicClock {
    /// Milliseconds since an arbitrary start. Wraps `clock_gettime(CLOCK_MONOTONIC)`.
    public static func nowMilliseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    /// Sleeps for `milliseconds`, resuming with the time left when a signal handler interrupts
    /// the sleep. Wraps `nanosleep(2)`.
    public static func sleep(milliseconds: Int) {
        var want = timespec(tv_sec: milliseconds / 1000, tv_nsec: (milliseconds % 1000) * 1_000_000)
        var left = timespec()
        _ = try? valueOrErrno {
            let result = nanosleep(&want, &left)
            if result != 0 { want = left }
            return result
        }
    }
}
