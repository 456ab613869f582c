import Posix

/// Everything the FastCGI layer can fail with. Each case prints as one line, fit for
/// `x2s3: <message>` at startup or a single log line in a worker.
public enum FastCGIError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The peer (nginx, or the client behind it) closed the stream: stop writing, finish, accept again.
    case clientGone
    /// A `--socket` value that is not `unix:PATH`, `tcp:HOST:PORT` or `tcp6:[ADDR]:PORT`.
    case badAddress(String, reason: String)
    /// A system call failed; `context` says what it was doing it for (an address, a path).
    case system(call: String, errno: Int32, context: String)
    /// A libfcgi call returned a failure code (negative errno or one of libfcgi's own codes).
    case library(call: String, code: Int32)

    /// One line, no trailing newline.
    public var description: String {
        switch self {
        case .clientGone:
            return "client went away"
        case .badAddress(let text, let reason):
            return "bad socket address '\(text)': \(reason) (expected unix:PATH, tcp:HOST:PORT or tcp6:[ADDR]:PORT)"
        case .system(let call, let code, let context):
            let what = context.isEmpty ? call : "\(call) \(context)"
            return "\(what): \(errnoText(code))"
        case .library(let call, let code):
            // libfcgi returns -errno for system failures, but its own codes (-2…-5, -999x)
            // overlap small errno values, so show both readings rather than guess.
            guard code < 0, code > -1000 else { return "\(call) failed (code \(code))" }
            return "\(call) failed (code \(code); as errno: \(errnoText(-code)))"
        }
    }
}

/// The C library's text for an errno value.
func errnoText(_ code: Int32) -> String { Errno(rawValue: code).description }

/// Runs a system call that returns -1 and sets errno on failure (EINTR retried by Posix's
/// `valueOrErrno`), naming the call and what it was for in the error.
@discardableResult
func systemCall(_ name: String, _ context: String = "", _ call: () -> Int32) throws(FastCGIError) -> Int32 {
    do {
        return try valueOrErrno(call)
    } catch {
        throw .system(call: name, errno: error.rawValue, context: context)
    }
}
