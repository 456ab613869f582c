import Glibc

/// How a child process ended, decoded from a `waitpid` status (the W* macros are not imported).
struct ExitStatus: CustomStringConvertible {
    let raw: Int32

    /// The exit code, or nil when a signal ended the process.
    var exitCode: Int32? { raw & 0x7f == 0 ? (raw >> 8) & 0xff : nil }
    /// The signal that ended the process, or nil when it exited.
    var signal: Int32? { raw & 0x7f == 0 ? nil : raw & 0x7f }

    var description: String {
        if let exitCode { return "exit \(exitCode)" }
        return "signal \(signal ?? 0)"
    }
}

/// The few process and signal calls the pool parent makes, each wrapped once (EINTR retried here).
enum ProcessControl {
    /// A set holding exactly `signals`. Wraps `sigemptyset`/`sigaddset`.
    static func signalSet(_ signals: [Int32]) -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in signals { sigaddset(&set, signal) }
        return set
    }

    /// Blocks `signals` and returns the previous mask. Wraps `pthread_sigmask(SIG_BLOCK)`.
    static func block(_ signals: [Int32]) -> sigset_t {
        var set = signalSet(signals)
        var previous = sigset_t()
        pthread_sigmask(SIG_BLOCK, &set, &previous)
        return previous
    }

    /// Replaces the signal mask. Wraps `pthread_sigmask(SIG_SETMASK)`.
    static func setMask(_ mask: sigset_t) {
        var mask = mask
        pthread_sigmask(SIG_SETMASK, &mask, nil)
    }

    /// Ignores `signal` (SIGPIPE in the CGI mode). Wraps `signal(_, SIG_IGN)`.
    static func ignore(_ signal: Int32) {
        _ = Glibc.signal(signal, SIG_IGN)
    }

    /// Waits until one of the (blocked) signals in `set` is pending and consumes it; nil when
    /// `timeout` passes first. Wraps `sigwaitinfo` / `sigtimedwait`.
    static func waitForSignal(in set: sigset_t, timeout: Duration?) -> Int32? {
        var set = set
        var info = siginfo_t()
        while true {
            let result: Int32
            if let timeout {
                let (seconds, attoseconds) = max(timeout, .zero).components
                var limit = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
                result = sigtimedwait(&set, &info, &limit)
            } else {
                result = sigwaitinfo(&set, &info)
            }
            if result > 0 { return result }
            if errno == EINTR { continue }  // another signal's handler ran (libfcgi's SIGUSR1)
            return nil  // EAGAIN: timed out
        }
    }

    /// Forks; returns 0 in the child, the child's pid in the parent, nil (errno kept) on failure.
    /// Wraps `fork`.
    static func fork() -> pid_t? {
        let pid = Glibc.fork()
        return pid < 0 ? nil : pid
    }

    /// Collects every child that has ended, without blocking. Wraps `waitpid(-1, WNOHANG)`.
    static func reapExited() -> [(pid: pid_t, status: ExitStatus)] {
        var ended: [(pid: pid_t, status: ExitStatus)] = []
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid > 0 {
                ended.append((pid, ExitStatus(raw: status)))
            } else if pid < 0, errno == EINTR {
                continue
            } else {
                return ended  // 0: none ready; -1 ECHILD: no children left
            }
        }
    }

    /// Waits for one specific child to end. Wraps `waitpid(pid, 0)`.
    static func waitFor(_ pid: pid_t) -> ExitStatus? {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return nil }
        }
        return ExitStatus(raw: status)
    }

    /// Sends `signal` to `pid`. Wraps `kill`.
    static func send(_ signal: Int32, to pid: pid_t) {
        _ = kill(pid, signal)
    }

    /// Writes one line to stderr with `write(2)` (the C `stderr` global is off limits in Swift 6).
    static func printError(_ line: String) {
        var text = line + "\n"
        text.withUTF8 { writeToStderr(UnsafeRawBufferPointer($0)) }
    }

    /// Writes all of `bytes` to fd 2, retrying on EINTR and short writes; gives up silently
    /// when stderr is gone (logging must never take a worker down).
    static func writeToStderr(_ bytes: UnsafeRawBufferPointer) {
        var next = 0
        while next < bytes.count {
            let written = write(2, bytes.baseAddress! + next, bytes.count - next)
            if written < 0 && errno == EINTR { continue }
            if written <= 0 { return }
            next += written
        }
    }
}
