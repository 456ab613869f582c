internal import Glibc

/// A C `errno` value with readable names for the few cases callers branch on. The one error
/// type of every system call x2s3 makes, and the one place its text is looked up.
public struct Errno: Error, Equatable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// The current thread's `errno`.
    public static var current: Errno { Errno(rawValue: errno) }

    /// `EINTR`: a signal handler ran during the call.
    public static let interrupted = Errno(rawValue: EINTR)
    /// `ENOENT`
    public static let noSuchFileOrDirectory = Errno(rawValue: ENOENT)
    /// `ENOTDIR`
    public static let notDirectory = Errno(rawValue: ENOTDIR)
    /// `EIO`
    public static let ioError = Errno(rawValue: EIO)
    /// `ESTALE`
    public static let stale = Errno(rawValue: ESTALE)
    /// `EMFILE`
    public static let tooManyOpenFiles = Errno(rawValue: EMFILE)

    /// The C library's text for the value. Wraps `strerror(3)`: its buffer is static, which is
    /// sound here because every x2s3 process is single-threaded.
    public var description: String {
        guard let text = strerror(rawValue) else { return "errno \(rawValue)" }
        return String(cString: text)
    }
}

/// Runs a C call that returns -1 and sets `errno` on failure, and returns its result or throws
/// the `Errno`. EINTR (a signal handler ran) is retried here, the one place in x2s3 that does
/// it, unless `retryOnInterrupt` is false: a caller that waits for a signal wants to see it.
/// A call that must resume with changed arguments (a sleep's remaining time) updates them in
/// `body` before returning -1.
@inlinable
public func valueOrErrno<T: FixedWidthInteger>(
    retryOnInterrupt: Bool = true, _ body: () -> T
) throws(Errno) -> T {
    while true {
        let result = body()
        if result != -1 { return result }
        let error = Errno.current
        if retryOnInterrupt && error == .interrupted { continue }
        throw error
    }
}
