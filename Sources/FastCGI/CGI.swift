internal import CFastCGI
import Glibc
import Posix

/// Plain CGI (mode C): the request is the process environment and the response goes to stdout.
///
/// libfcgi's CGI fallback lives in `fcgi_stdio` (`FCGI_Accept`, stdio `FILE *` macros), which Swift
/// cannot use. `FCGX_Accept` — the non-reentrant `fcgiapp` call — has no fallback: in
/// libfcgi 2.4.2 it returns -ENOTSOCK when fd 0 is not a socket. So CGI is done here directly:
/// params from `environ`, body to fd 1 with `write(2)`.
public enum CGI {
    /// True when fd 0 is not a FastCGI listening socket (a terminal, a pipe, /dev/null…): the
    /// process was started as a CGI program, or by hand. Wraps `FCGX_IsCGI` (which also runs
    /// `FCGX_Init` once).
    public static func isCGI() -> Bool {
        FCGX_IsCGI() != 0
    }

    /// The process environment as a dictionary, read once. Reads `environ`.
    public static func environment() -> [String: String] {
        var result: [String: String] = [:]
        if let envp = x2s3_environ() { copyEnvironment(envp, into: &result) }
        return result
    }
}

/// The response stream of a CGI request: fd 1, written directly (no stdio buffer, so nothing is
/// left unflushed at exit and no C `FILE *` global is touched).
public struct CGIOutput {
    private let fd: Int32 = 1

    /// The process's stdout.
    public init() {}

    /// Writes all of `bytes`; throws `.clientGone` when stdout is closed (EPIPE — SIGPIPE must be
    /// ignored by the caller) or fails. Wraps `write` (EINTR retried).
    public mutating func write(_ bytes: UnsafeRawBufferPointer) throws(FastCGIError) {
        guard var next = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            guard let written = try? valueOrErrno({ Glibc.write(fd, next, remaining) }) else { throw .clientGone }
            next += written
            remaining -= written
        }
    }

    /// Nothing to do: writes are unbuffered. Present so CGI and FastCGI outputs look alike.
    public mutating func flush() throws(FastCGIError) {}
}
