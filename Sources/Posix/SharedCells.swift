internal import Glibc
internal import CPosix

/// 64-bit cells in memory shared with every process forked after they were made: the worker
/// pool's scoreboard. Each cell has a single writer; every access is a relaxed atomic, so a
/// reader never sees a torn value (and nothing orders cells against each other: readers must
/// not need that).
///
/// The mapping is never unmapped: it lives as long as the process that made it and the
/// children that inherit it, which is the whole life of a pool.
// SAFETY: the pointer refers to a MAP_SHARED mapping that is never unmapped, and every access
// goes through the atomic load/store below; the type is only ever used from one thread per process.
public struct SharedCells: @unchecked Sendable {  // SAFETY: see above
    // SAFETY: see the type's note: a MAP_SHARED mapping of count cells, never unmapped.
    private let base: UnsafeMutablePointer<UInt64>
    /// How many cells there are.
    public let count: Int

    /// Maps `count` zeroed cells, shared with children forked later.
    /// Wraps `mmap(2)` with `MAP_SHARED | MAP_ANONYMOUS`.
    public init(count: Int) throws(Errno) {
        let bytes = max(1, count) * MemoryLayout<UInt64>.stride
        let address = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0)
        guard let address, address != MAP_FAILED else { throw Errno.current }
        // SAFETY: mmap returned page-aligned memory for at least count UInt64 cells, zeroed, used only as
        //  UInt64.
        base = address.bindMemory(to: UInt64.self, capacity: max(1, count))
        self.count = count
    }

    /// The value of cell `index`. Wraps an atomic load.
    public func load(_ index: Int) -> UInt64 {
        precondition(index >= 0 && index < count, "cell \(index) outside 0..<\(count)")
        return cposix_atomic_load_u64(base + index)
    }

    /// Sets cell `index`. Wraps an atomic store.
    public func store(_ index: Int, _ value: UInt64) {
        precondition(index >= 0 && index < count, "cell \(index) outside 0..<\(count)")
        cposix_atomic_store_u64(base + index, value)
    }
}
