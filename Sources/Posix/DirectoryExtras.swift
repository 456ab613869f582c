internal import Glibc
internal import CPosix

/// `O_PATH` (Linux, every architecture x2s3 builds for): Glibc hides it behind `_GNU_SOURCE`,
/// which the Swift Glibc module is not built with, so the kernel ABI value is spelled here.
private let openPathOnly: Int32 = 0o10000000

extension FileDescriptor {
    /// Calls `body` with each entry of this directory except `.` and `..`, in readdir order,
    /// until it returns false. Nothing is collected, so a caller that stops early (the first
    /// file of a huge directory) reads only what it needs. The descriptor itself is left
    /// untouched: a duplicate is handed to `fdopendir(3)` and closed with it.
    /// Wraps `fcntl(2)` (F_DUPFD_CLOEXEC), `fdopendir(3)`, `readdir(3)`, `closedir(3)`.
    public func forEachEntry(_ body: (DirectoryEntry) -> Bool) throws(Errno) {
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
        while true {
            errno = 0
            guard let ent = readdir(dir) else {
                if errno != 0 { throw Errno.current }
                return
            }
            // SAFETY: ent points to readdir's entry, valid until the next readdir or closedir, and d_name is
            //  copied out here before either. The record is only as long as its name (d_reclen), not
            //  sizeof(dirent): d_name is read in place (inout: no copy of the whole 256-byte array, which
            //  could run past the end of glibc's buffer) and only up to its NUL.
            let name: [UInt8] = withUnsafeBytes(of: &ent.pointee.d_name) { raw in
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
            if !body(DirectoryEntry(name: name, type: type)) { return }
        }
    }

    /// Metadata of what `relativePath` resolves to beneath this directory, following symlinks
    /// but refusing (EXDEV/ELOOP) any resolution that leaves it, exactly as `openBeneath` does.
    /// The object is never opened for reading (`O_PATH`), so a FIFO or a device costs nothing
    /// and triggers nothing. Wraps `openat2(2)` (`O_PATH`, `RESOLVE_BENEATH`) and `fstat(2)`.
    public func statBeneath(_ relativePath: String) throws(Errno) -> FileStat {
        let path = relativePath.isEmpty ? "." : relativePath
        let newFD = try withRawValue { (fd) throws(Errno) -> Int32 in
            try valueOrErrno { cposix_open_beneath(fd, path, openPathOnly | O_CLOEXEC) }
        }
        return try FileDescriptor(owning: newFD).stat()
    }
}
