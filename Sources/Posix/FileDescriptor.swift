internal import Glibc
internal import CPosix

/// Owns one open file descriptor and closes it exactly once, in `deinit`.
/// A class (not `~Copyable`) so it can sit in caches and optionals; the fd never escapes as a
/// bare integer except through `withRawValue`, used by the rare caller that hands it to C.
public final class FileDescriptor {
    private let fd: Int32

    init(owning fd: Int32) { self.fd = fd }
    deinit { _ = close(fd) }

    /// Lends the raw descriptor for a call that cannot take the owner.
    public func withRawValue<R, E: Error>(_ body: (Int32) throws(E) -> R) throws(E) -> R { try body(fd) }

    /// Opens a directory to serve as a root. Wraps `open(2)` with `O_DIRECTORY | O_CLOEXEC`.
    public static func openDirectory(_ path: String) throws(Errno) -> FileDescriptor {
        let fd = try valueOrErrno { open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        return FileDescriptor(owning: fd)
    }

    /// Opens `relativePath` under this directory, refusing (EXDEV/ELOOP) any resolution that
    /// leaves it: `..`, absolute paths and symlinks pointing outside are stopped by the kernel,
    /// so there is no check-then-open race. Wraps `openat2(2)` with `RESOLVE_BENEATH`.
    public func openBeneath(_ relativePath: String, directory: Bool = false) throws(Errno) -> FileDescriptor {
        let flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (directory ? O_DIRECTORY : 0)
        let path = relativePath.isEmpty ? "." : relativePath
        let newFD = try valueOrErrno { cposix_open_beneath(fd, path, flags) }
        return FileDescriptor(owning: newFD)
    }

    /// Metadata of the open file. Wraps `fstat(2)`.
    public func stat() throws(Errno) -> FileStat {
        var st = Glibc.stat()
        _ = try valueOrErrno { fstat(fd, &st) }
        return FileStat(st)
    }

    /// Metadata of `name` in this directory, following a final symlink only if `follow`.
    /// Wraps `fstatat(2)`.
    public func stat(at name: String, follow: Bool) throws(Errno) -> FileStat {
        var st = Glibc.stat()
        _ = try valueOrErrno { fstatat(fd, name, &st, follow ? 0 : AT_SYMLINK_NOFOLLOW) }
        return FileStat(st)
    }

    /// Whether this process could open `name` in this directory, whose metadata is `stat`, for
    /// reading, without opening it. With `trustingModeBits` (the caller knows the file system
    /// enforces exactly its mode bits: `modeBitsAreAuthoritative`) and bits that grant read to
    /// the process's class, that is the answer, with no syscall: a listing asks this of every
    /// key. Otherwise `faccessat(2)` (`R_OK`, `AT_EACCESS`, final symlink not followed)
    /// decides, which counts root's capabilities, ACLs and the server's own rules. What the
    /// bits cannot show even on a local file system is an ACL entry (or an LSM policy) that
    /// denies what they grant: such a file passes here and its open fails later.
    public func isReadable(at name: String, stat: FileStat, trustingModeBits: Bool) -> Bool {
        let ids = ProcessIdentity.effective
        if trustingModeBits && stat.modeGrantsRead(user: ids.user, groups: ids.groups) { return true }
        return faccessat(fd, name, R_OK, AT_EACCESS | AT_SYMLINK_NOFOLLOW) == 0
    }

    /// Whether this directory's file system is a local one that enforces the mode bits it
    /// reports. Network and FUSE file systems (NFS, CIFS/SMB, Lustre, GPFS, BeeGFS, Ceph, …) may
    /// report modes their server does not go by (a CIFS mount's fixed `file_mode`, NFSv4 ACLs),
    /// so they are not in the list. Wraps `fstatfs(2)` (through CPosix).
    public func modeBitsAreAuthoritative() -> Bool {
        var type: Int64 = 0
        guard (try? valueOrErrno { cposix_fs_type(fd, &type) }) != nil else { return false }
        return FileStat.localFileSystems.contains(UInt64(truncatingIfNeeded: type))
    }

    /// Reads up to `buffer.count` bytes at `offset`; returns the count (0 at EOF). Wraps `pread(2)`.
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(Errno) -> Int {
        try valueOrErrno { pread(fd, buffer.baseAddress, buffer.count, off_t(offset)) }
    }

    /// Reads the rest of the file from the current position, at most `limit` bytes: small
    /// files only (a config, a credential), which may be pipes (`--config <(…)`), so the
    /// reads are sequential. Wraps `read(2)`.
    public func readAll(limit: Int) throws(Errno) -> [UInt8] {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while out.count < limit {
            // Array's withUnsafe… is not typed-throws: the Errno comes out as a Result.
            // SAFETY: read(2) writes at most buffer.count bytes into the chunk, which outlives the call.
            let n = try chunk.withUnsafeMutableBytes { buffer in
                Result { () throws(Errno) in try valueOrErrno { Glibc.read(fd, buffer.baseAddress, buffer.count) } }
            }.get()
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<min(n, limit - out.count)])
        }
        return out
    }

    /// Reads an extended attribute; nil when absent or unsupported. Wraps `fgetxattr(2)`.
    public func extendedAttribute(_ name: String, maxSize: Int = 256) -> [UInt8]? {
        var buf = [UInt8](repeating: 0, count: maxSize)
        // SAFETY: fgetxattr writes at most maxSize bytes, the buffer's size.
        let n = buf.withUnsafeMutableBytes { fgetxattr(fd, name, $0.baseAddress, maxSize) }
        return n < 0 ? nil : Array(buf[0..<n])
    }

    /// Stores an extended attribute; false when the filesystem refuses (read-only, no xattrs).
    /// Wraps `fsetxattr(2)`.
    @discardableResult
    public func setExtendedAttribute(_ name: String, _ value: [UInt8]) -> Bool {
        // SAFETY: fsetxattr reads value.count bytes during the call.
        value.withUnsafeBytes { fsetxattr(fd, name, $0.baseAddress, value.count, 0) } == 0
    }
}

/// The fields of `struct stat` x2s3 uses, copied out once.
public struct FileStat: Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case regular, directory, symlink, other }
    public var kind: Kind
    public var size: UInt64
    /// Modification time, seconds and nanoseconds since the epoch.
    public var mtimeSeconds: Int64
    public var mtimeNanoseconds: Int64
    public var device: UInt64
    public var inode: UInt64
    /// Permission bits (`0o777`), owner and group.
    public var permissions: UInt32 = 0
    public var owner: UInt32 = 0
    public var group: UInt32 = 0

    init(_ st: Glibc.stat) {
        switch st.st_mode & S_IFMT {
        case S_IFREG: kind = .regular
        case S_IFDIR: kind = .directory
        case S_IFLNK: kind = .symlink
        default: kind = .other
        }
        size = UInt64(st.st_size)
        mtimeSeconds = Int64(st.st_mtim.tv_sec)
        mtimeNanoseconds = Int64(st.st_mtim.tv_nsec)
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
        permissions = UInt32(st.st_mode & 0o777)
        owner = UInt32(st.st_uid)
        group = UInt32(st.st_gid)
    }

    public init(kind: Kind, size: UInt64, mtimeSeconds: Int64, mtimeNanoseconds: Int64 = 0, device: UInt64 = 0, inode: UInt64 = 0,
                permissions: UInt32 = 0, owner: UInt32 = 0, group: UInt32 = 0) {
        self.kind = kind
        self.size = size
        self.mtimeSeconds = mtimeSeconds
        self.mtimeNanoseconds = mtimeNanoseconds
        self.device = device
        self.inode = inode
        self.permissions = permissions
        self.owner = owner
        self.group = group
    }

    /// Whether the permission bits of the class a process with these effective ids falls in
    /// grant read: the owner's if it owns the file, else the group's if the file's group is one
    /// of its groups, else everyone else's (the kernel's order; a class that denies is final).
    public func modeGrantsRead(user: UInt32, groups: Set<UInt32>) -> Bool {
        let shift: UInt32 = owner == user ? 6 : groups.contains(group) ? 3 : 0
        return (permissions >> shift) & 0o4 != 0
    }
}

extension FileStat {
    /// `statfs.f_type` of local file systems (linux/magic.h): ext2/3/4, XFS, Btrfs, tmpfs,
    /// overlayfs, ZFS, F2FS, ramfs.
    static let localFileSystems: Set<UInt64> = [
        0xEF53, 0x5846_5342, 0x9123_683E, 0x0102_1994, 0x794C_7630, 0x2FC1_2FC1, 0xF2F5_2010, 0x8584_58F6,
    ]
}

/// The process's effective user and groups, read once: a worker never changes them after it
/// starts serving. Wraps `geteuid(2)`, `getegid(2)`, `getgroups(2)`.
enum ProcessIdentity {
    static let effective: (user: UInt32, groups: Set<UInt32>) = {
        var groups: Set<UInt32> = [UInt32(getegid())]
        let count = getgroups(0, nil)
        if count > 0 {
            var list = [gid_t](repeating: 0, count: Int(count))
            let n = getgroups(count, &list)
            if n > 0 { groups.formUnion(list.prefix(Int(n)).map { UInt32($0) }) }
        }
        return (UInt32(geteuid()), groups)
    }()
}
