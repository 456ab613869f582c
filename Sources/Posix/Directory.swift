internal import Glibc

/// One entry of a directory, as `readdir(3)` reports it.
public struct DirectoryEntry: Sendable, Equatable {
    /// The raw name bytes (not necessarily UTF-8).
    public var name: [UInt8]
    public var type: EntryType

    /// `d_type`; `.unknown` means the filesystem did not say and the caller must stat.
    public enum EntryType: Sendable, Equatable { case regular, directory, symlink, unknown, other }

    public init(name: [UInt8], type: EntryType) {
        self.name = name
        self.type = type
    }
}

extension FileDescriptor {
    /// All entries of this directory except `.` and `..`, in readdir order. The descriptor
    /// itself is left untouched: a duplicate is handed to `fdopendir(3)` and closed with it.
    /// Wraps `dup(2)`, `fdopendir(3)`, `readdir(3)`, `closedir(3)`.
    public func readDirectory() throws(Errno) -> [DirectoryEntry] {
        let dupFD = try withRawValue { (fd) throws(Errno) -> Int32 in
            try valueOrErrno { fcntl(fd, F_DUPFD_CLOEXEC, 0) }
        }
        guard let dir = fdopendir(dupFD) else {
            let e = Errno.current
            _ = close(dupFD)
            throw e
        }
        defer { closedir(dir) }
        rewinddir(dir)
        var entries: [DirectoryEntry] = []
        while true {
            errno = 0
            guard let ent = readdir(dir) else {
                if errno != 0 { throw Errno.current }
                break
            }
            let name: [UInt8] = withUnsafeBytes(of: ent.pointee.d_name) { raw in
                let bytes = raw.bindMemory(to: UInt8.self)
                let len = bytes.firstIndex(of: 0) ?? bytes.count
                return Array(bytes[0..<len])
            }
            if name == [0x2E] || name == [0x2E, 0x2E] { continue }
            let type: DirectoryEntry.EntryType
            switch Int32(ent.pointee.d_type) {
            case Int32(DT_REG): type = .regular
            case Int32(DT_DIR): type = .directory
            case Int32(DT_LNK): type = .symlink
            case Int32(DT_UNKNOWN): type = .unknown
            default: type = .other
            }
            entries.append(DirectoryEntry(name: name, type: type))
        }
        return entries
    }
}
