import Posix

/// A file bucket's root directory, kept open across requests and re-validated against its
/// configured path, so a dataset published under a running server (`mv new ds`, `rm -rf` and
/// recreate, `ln -sfn v2 current`, a remount) is served from its new content within
/// `RootCheck.intervalMilliseconds` on every worker, without a reload.
///
/// The check is one `stat` of the configured path (symlinks followed) compared with the open
/// directory's (device, inode): at most once per interval, and at once after any miss (a key or
/// directory not found), so a new file never waits for the interval. While the descriptor is
/// open its inode cannot be reused, so an equal identity is the same directory.
final class BucketRoot {
    /// The path as configured (may go through symlinks that get re-pointed).
    let configuredPath: String
    private(set) var descriptor: FileDescriptor
    /// The canonical path of the open directory, as nginx must name it (offload).
    private(set) var realPath: String
    private var identity: RootCheck.Identity
    private var checkedAt: Int64
    private let clock: () -> Int64

    /// Opens `realPath` (the config resolved `configuredPath` at load).
    init(configuredPath: String, realPath: String, clock: @escaping () -> Int64 = MonotonicClock.nowMilliseconds) throws(Errno) {
        self.configuredPath = configuredPath
        self.clock = clock
        let fd = try FileDescriptor.openDirectory(realPath)
        let st = try fd.stat()
        descriptor = fd
        self.realPath = realPath
        identity = RootCheck.Identity(st)
        checkedAt = clock()
    }

    /// The open root, re-validated when the last check is older than the interval.
    var current: FileDescriptor {
        if RootCheck.isDue(lastCheck: checkedAt, now: clock(), miss: false) { _ = revalidate() }
        return descriptor
    }

    /// After a miss: re-validates now. True when the root was replaced (worth a retry).
    func revalidateAfterMiss() -> Bool { revalidate() }

    private func revalidate() -> Bool {
        checkedAt = clock()
        let now = try? PathLookup.stat(configuredPath)
        guard RootCheck.isReplaced(open: identity, path: now.map(RootCheck.Identity.init)) else { return false }
        // Open by the canonical path and check it is what was stat'ed: the realpath then names
        // exactly the open directory (a re-point racing in between is caught next time).
        guard let real = try? PathLookup.realPath(configuredPath),
              let fd = try? FileDescriptor.openDirectory(real),
              let st = try? fd.stat(), st.kind == .directory
        else { return false }
        descriptor = fd
        realPath = real
        identity = RootCheck.Identity(st)
        return true
    }
}

/// The re-validation decision, pure so it can be tested without a file system.
enum RootCheck {
    /// How stale a root may be served at most when nothing misses.
    static let intervalMilliseconds: Int64 = 1000

    struct Identity: Equatable {
        var device: UInt64, inode: UInt64
        init(device: UInt64, inode: UInt64) { self.device = device; self.inode = inode }
        init(_ st: FileStat) { self.init(device: st.device, inode: st.inode) }
    }

    /// A check is due after a miss, or when the last one is `intervalMilliseconds` old (or the
    /// clock went backwards, which a monotonic clock does not, but a test clock might).
    static func isDue(lastCheck: Int64, now: Int64, miss: Bool) -> Bool {
        miss || now - lastCheck >= intervalMilliseconds || now < lastCheck
    }

    /// Whether the configured path now names another directory than the open one. A path that
    /// is gone (`nil`: mid-publish, between `rm -rf` and `mkdir`) keeps the open one: there is
    /// nothing better to serve, and the next check picks up the new one.
    static func isReplaced(open: Identity, path: Identity?) -> Bool {
        guard let path else { return false }
        return path != open
    }
}
