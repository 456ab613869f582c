import Glibc
import Posix

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

/// The few process and signal calls the pool parent makes, each wrapped once (EINTR retried by
/// Posix's `valueOrErrno`).
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
        // EINTR: another signal's handler ran (libfcgi's SIGUSR1); waited for again.
        let result = try? valueOrErrno { () -> Int32 in
            if let timeout {
                let (seconds, attoseconds) = max(timeout, .zero).components
                var limit = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
                return sigtimedwait(&set, &info, &limit)
            }
            return sigwaitinfo(&set, &info)
        }
        return result.flatMap { $0 > 0 ? $0 : nil }  // nil: EAGAIN, timed out
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
            // 0: none ready; -1 ECHILD: no children left.
            guard let pid = try? valueOrErrno({ waitpid(-1, &status, WNOHANG) }), pid > 0 else { return ended }
            ended.append((pid, ExitStatus(raw: status)))
        }
    }

    /// Waits for one specific child to end. Wraps `waitpid(pid, 0)`.
    static func waitFor(_ pid: pid_t) -> ExitStatus? {
        var status: Int32 = 0
        guard (try? valueOrErrno { waitpid(pid, &status, 0) }) != nil else { return nil }
        return ExitStatus(raw: status)
    }

    /// Sends `signal` to `pid`. Wraps `kill`.
    static func send(_ signal: Int32, to pid: pid_t) {
        _ = kill(pid, signal)
    }

    /// Writes one line to stderr with `write(2)` (the C `stderr` global is off limits in Swift 6).
    static func printError(_ line: String) {
        var text = line + "\n"
        // SAFETY: the text's UTF-8 is read by write(2) during the call.
        text.withUTF8 { writeToStderr(UnsafeRawBufferPointer($0)) }
    }

    /// Writes all of `bytes` to fd 2, resuming short writes; gives up silently when stderr is
    /// gone (logging must never take a worker down).
    static func writeToStderr(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        var next = 0
        while next < bytes.count {
            guard let written = try? valueOrErrno({ write(2, base + next, bytes.count - next) }), written > 0 else { return }
            next += written
        }
    }
}
