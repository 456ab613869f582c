internal import Glibc

/// A whole file mapped read-only and shared, unmapped exactly once in `deinit`. Pages are read
/// on first touch and belong to the page cache, so every process mapping the same file shares
/// one copy. The file must not shrink while mapped (a touch past its end is SIGBUS): map only
/// files that are replaced by rename, never rewritten in place.
public final class MappedFile {
    /// The mapped bytes; valid while this object lives.
    // SAFETY: the mapping is made in init and unmapped only in deinit: valid for this object's lifetime.
    //  Readers must not keep it longer, nor map a file that can shrink (see above).
    public let bytes: UnsafeRawBufferPointer

    /// Maps the first `length` bytes of `file` (the descriptor may be closed afterwards).
    /// Wraps `mmap(2)` with `PROT_READ`, `MAP_SHARED`.
    public init(_ file: FileDescriptor, length: Int) throws(Errno) {
        guard length > 0 else { throw Errno(rawValue: EINVAL) }
        let address = file.withRawValue { fd in mmap(nil, length, PROT_READ, MAP_SHARED, fd, 0) }
        guard let address, address != MAP_FAILED else { throw Errno.current }
        // SAFETY: mmap returned a mapping of length bytes.
        bytes = UnsafeRawBufferPointer(start: address, count: length)
    }

    /// Wraps `munmap(2)`.
    // SAFETY: unmaps exactly what init mapped, once.
    deinit { _ = munmap(UnsafeMutableRawPointer(mutating: bytes.baseAddress), bytes.count) }
}
