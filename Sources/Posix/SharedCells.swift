internal import Glibc
internal import CPosix

/// 64-bit cells in memory shared with every process forked after they were made (the worker
/// pool's scoreboard), or with every process that maps the same file (the pool-wide counters,
/// which spawn-fcgi's unrelated workers share). Every access is atomic and relaxed, so a reader
/// never sees a torn value (and nothing orders cells against each other: readers must not
/// need that).
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

    /// Maps `count` cells of the file at `path` (created with mode 0600 when missing), shared
    /// with every process that maps it. Under an exclusive `flock`, so processes starting
    /// together agree: when the file does not begin with `header`, or has another size, it is
    /// zeroed to `count` cells and `header` is written at its start; otherwise its cells (the
    /// counts other processes left there) are kept.
    /// Wraps `open(2)` (`O_NOFOLLOW`), `flock(2)`, `ftruncate(2)` and `mmap(2)` with `MAP_SHARED`.
    public init(file path: String, count: Int, header: [UInt64]) throws(Errno) {
        precondition(count >= header.count && count > 0)
        let fd = try valueOrErrno { open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, mode_t(0o600)) }
        defer { _ = close(fd) }
        _ = try valueOrErrno { flock(fd, LOCK_EX) }
        defer { _ = flock(fd, LOCK_UN) }
        var info = stat()
        _ = try valueOrErrno { fstat(fd, &info) }
        guard info.st_mode & S_IFMT == S_IFREG else { throw Errno(rawValue: EINVAL) }
        let bytes = count * MemoryLayout<UInt64>.stride
        var fresh = Int(info.st_size) != bytes
        if fresh {
            _ = try valueOrErrno { ftruncate(fd, 0) }
            _ = try valueOrErrno { ftruncate(fd, off_t(bytes)) }
        }
        let address = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
        guard let address, address != MAP_FAILED else { throw Errno.current }
        // SAFETY: a shared file mapping of exactly count UInt64 cells (the file was sized above),
        //  page-aligned, only ever accessed as UInt64 through atomics by every process mapping it.
        base = address.bindMemory(to: UInt64.self, capacity: count)
        self.count = count
        if !fresh { fresh = header.indices.contains { cposix_atomic_load_u64(base + $0) != header[$0] } }
        if fresh {
            for i in 0..<count { cposix_atomic_store_u64(base + i, 0) }
            for (i, v) in header.enumerated() { cposix_atomic_store_u64(base + i, v) }
        }
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

    /// Adds `value` to cell `index` (wrapping). Wraps an atomic fetch-add: any number of
    /// processes may add to one cell.
    public func add(_ index: Int, _ value: UInt64) {
        precondition(index >= 0 && index < count, "cell \(index) outside 0..<\(count)")
        cposix_atomic_add_u64(base + index, value)
    }

    /// Sets cell `index` to `desired` if it holds `expected`; whether it did. Wraps an atomic
    /// compare-and-swap.
    public func replace(_ index: Int, expected: UInt64, with desired: UInt64) -> Bool {
        precondition(index >= 0 && index < count, "cell \(index) outside 0..<\(count)")
        return cposix_atomic_cas_u64(base + index, expected, desired) != 0
    }
}
