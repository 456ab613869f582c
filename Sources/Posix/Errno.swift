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
