internal import Glibc

/// A C `errno` value with readable names for the few cases callers branch on.
public struct Errno: Error, Equatable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// The current thread's `errno`.
    public static var current: Errno { Errno(rawValue: errno) }

    /// `ENOENT`
    public static let noSuchFileOrDirectory = Errno(rawValue: ENOENT)
    /// `ENOTDIR`
    public static let notDirectory = Errno(rawValue: ENOTDIR)
    /// `EISDIR`
    public static let isDirectory = Errno(rawValue: EISDIR)
    /// `EACCES`
    public static let permissionDenied = Errno(rawValue: EACCES)
    /// `EPERM`
    public static let notPermitted = Errno(rawValue: EPERM)
    /// `EXDEV`: what openat2 answers when a path would leave its root.
    public static let crossDevice = Errno(rawValue: EXDEV)
    /// `ELOOP`: a symlink where none is allowed, or too many levels.
    public static let tooManySymbolicLinks = Errno(rawValue: ELOOP)
    /// `ENAMETOOLONG`
    public static let nameTooLong = Errno(rawValue: ENAMETOOLONG)
    /// `EINTR`
    public static let interrupted = Errno(rawValue: EINTR)
    /// `ENOSYS`
    public static let noSys = Errno(rawValue: ENOSYS)
    /// `EIO`
    public static let ioError = Errno(rawValue: EIO)
    /// `ESTALE`
    public static let stale = Errno(rawValue: ESTALE)
    /// `EMFILE`
    public static let tooManyOpenFiles = Errno(rawValue: EMFILE)

    public var description: String { String(cString: strerror(rawValue)) }
}

/// Runs a C call returning -1 on error, retrying on EINTR in this one place.
@inline(__always)
func valueOrErrno<T: FixedWidthInteger>(_ body: () -> T) throws(Errno) -> T {
    while true {
        let r = body()
        if r != -1 { return r }
        let e = errno
        if e == EINTR { continue }
        throw Errno(rawValue: e)
    }
}
