internal import CPosix

/// The heap allocator's housekeeping.
public enum Heap {
    /// Hands free heap memory back to the kernel, after a large transient allocation (sorting
    /// a huge directory) would otherwise leave the process's RSS at its peak. Wraps
    /// `malloc_trim(3)` (through CPosix).
    public static func releaseFreeMemory() { _ = cposix_malloc_trim() }
}
