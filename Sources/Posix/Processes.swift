internal import Glibc
internal import CPosix

/// What the pool leader and its workers ask the kernel about processes.
public enum Processes {
    /// The kernel's one-letter state of `pid` (`R` running, `S` sleeping, `D` in uninterruptible
    /// I/O, `T` stopped by a signal, `t` stopped by a tracer, `Z` zombie), or nil when there is
    /// no such process. Reads `/proc/<pid>/stat`.
    public static func state(of pid: Int32) -> UInt8? {
        let fd = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { _ = close(fd) }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 512) { buffer -> UInt8? in
            let n = (try? valueOrErrno { read(fd, buffer.baseAddress, buffer.count) }) ?? 0
            // "pid (comm) S ...": comm may hold spaces and parentheses, so the state follows the
            // last ") ".
            let text = UnsafeBufferPointer(rebasing: buffer[0..<max(0, n)])
            guard let close = text.lastIndex(of: UInt8(ascii: ")")), close + 2 < text.count else { return nil }
            return text[close + 2]
        }
    }

    /// Asks the kernel to send `signal` to this process when its parent exits.
    /// Wraps `prctl(PR_SET_PDEATHSIG)`.
    public static func setParentDeathSignal(_ signal: Int32) throws(Errno) {
        _ = try valueOrErrno { cposix_set_parent_death_signal(signal) }
    }

    /// Whether `pid` is a running process of this user: `kill(pid, 0)` succeeds (EPERM, another
    /// user's process, is not one of ours) and it is no zombie (a spawn-fcgi worker's parent is
    /// init, which in a container may never reap it).
    public static func exists(_ pid: Int32) -> Bool {
        guard pid > 0, kill(pid, 0) == 0, let s = state(of: pid) else { return false }
        return s != UInt8(ascii: "Z")
    }

    /// This process's id. Wraps `getpid(2)`.
    public static func currentID() -> Int32 { getpid() }

    /// This process's parent. Wraps `getppid(2)`.
    public static func parentID() -> Int32 { getppid() }

    /// Whether the listening socket `fd` has a connection waiting to be accepted, without
    /// taking it. Wraps `poll(2)` with a zero timeout.
    public static func hasPendingConnection(_ fd: Int32) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = (try? valueOrErrno { poll(&entry, 1, 0) }) ?? 0
        return ready > 0 && entry.revents & Int16(POLLIN) != 0
    }
}
