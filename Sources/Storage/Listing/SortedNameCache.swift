import Posix

/// Per-worker cache of sorted directories, so paging through a 100,000-entry directory does
/// not re-read and re-sort it on every page.
///
/// Keyed by the bucket root and the directory's (device, inode, mtime with nanoseconds): any
/// entry created, removed or renamed changes the mtime, so a hit is the directory as it is now.
/// A directory modified within the last `racyWindowSeconds` is not cached (the "racy git"
/// rule: a change landing in the same timestamp tick would leave the mtime unchanged).
/// Bounded by `budget` bytes with two generations: lookups promote into the young one; when it
/// fills, the old one is dropped. Memory never grows with the tree.
///
/// Directories of at least `indexMinEntries` entries are also shared with the other workers
/// through `index` (a `SortedNameIndex`), which a miss consults before reading the directory:
/// a page of a million-entry directory then costs a binary search in a mapped file, in every
/// worker, after the first sort anywhere in the pool.
///
/// What it cannot see: a symlink's *target* changing kind (file ↔ directory, or appearing)
/// does not touch the directory's mtime; such a link keeps its old classification until the
/// directory changes or the entry ages out. Emission re-checks, so a stale entry is skipped,
/// never served wrongly.
public final class SortedNameCache {
    /// Which directory, in which state, seen from which bucket root (symlink classification
    /// depends on the root).
    struct Key: Hashable {
        var rootDevice: UInt64, rootInode: UInt64
        var device: UInt64, inode: UInt64
        var mtimeSeconds: Int64, mtimeNanoseconds: Int64
    }

    private let budget: Int
    private let racyWindowSeconds: Int64
    private let now: () -> Int64
    /// The shared file-backed images; nil keeps everything in this worker's memory.
    let index: SortedNameIndex?
    private let indexMinEntries: Int
    private var young: [Key: SortedDirectory] = [:]
    private var old: [Key: SortedDirectory] = [:]
    private var youngCost = 0
    /// Reads and sorts performed (cache misses), for tests and measurements.
    public private(set) var loads = 0
    /// Directories found in memory or in the shared index (no read, no sort).
    public private(set) var hits = 0
    /// Misses answered by a shared index file instead of a sort.
    public private(set) var indexHits = 0

    /// `budget`: bytes of names and bookkeeping kept across both generations (default 16 MiB,
    /// about a million typical names). `racyWindowSeconds`: how old a directory's mtime must be
    /// before it is trusted as a cache key.
    /// `now` (seconds since the epoch) defaults to the wall clock. `index` shares directories
    /// of at least `indexMinEntries` entries across workers.
    init(budget: Int = 16 << 20, racyWindowSeconds: Int64 = 2, now: (() -> Int64)? = nil,
         index: SortedNameIndex? = nil, indexMinEntries: Int = 10_000) {
        self.budget = budget
        self.racyWindowSeconds = racyWindowSeconds
        self.now = now ?? { WallClock.now() }
        self.index = index
        self.indexMinEntries = indexMinEntries
    }

    /// A cache as `listing_cache` configures it. The index is left out (memory only) when its
    /// directory cannot be made or is not safely this user's.
    public convenience init(settings: ListingCacheSettings) {
        let index = settings.indexBytes > 0 ? SortedNameIndex(path: settings.indexPath, diskBudget: settings.indexBytes) : nil
        self.init(budget: settings.memoryBytes, index: index, indexMinEntries: settings.indexMinEntries)
    }

    /// The index directory in use, or nil (for the startup log).
    public var indexPath: String? { index?.path }

    /// The sorted directory for `key`, from the cache or from `load` (then remembered if it is
    /// old enough and fits).
    /// `load` reads and sorts the directory into a builder.
    func directory(_ key: Key, load: () throws(Errno) -> SortedDirectoryBuilder) throws(Errno) -> SortedDirectory {
        if let hit = young[key] {
            hits += 1
            return hit
        }
        if let hit = old.removeValue(forKey: key) {
            hits += 1
            insert(key, hit)
            return hit
        }
        let time = now()
        let trusted = key.mtimeSeconds < time - racyWindowSeconds
        if trusted, let index, let shared = index.open(key, now: time) {
            indexHits += 1
            hits += 1
            insert(key, shared)
            return shared
        }
        let (dir, large) = try sort(key, trusted: trusted, now: time, load: load)
        // The sort's scratch arrays were as large as the image: give them back to the kernel.
        if large { Heap.releaseFreeMemory() }
        if trusted { insert(key, dir) }
        return dir
    }

    /// Reads and sorts the directory; a large one, when trusted, is written to the shared index
    /// and comes back mapped from there.
    private func sort(_ key: Key, trusted: Bool, now: Int64,
                      load: () throws(Errno) -> SortedDirectoryBuilder) throws(Errno) -> (SortedDirectory, large: Bool) {
        let builder = try load()
        guard builder.fits else { throw Errno.ioError }
        loads += 1
        let large = builder.count >= indexMinEntries
        let order = builder.sortedOrder()
        if trusted, large, let index, let shared = index.store(builder, order: order, key: key, now: now) { return (shared, true) }
        return (builder.build(order: order, key: key, now: now), large)
    }

    private func insert(_ key: Key, _ dir: SortedDirectory) {
        let half = budget / 2
        guard dir.cost <= half else { return }
        if youngCost + dir.cost > half {
            old = young
            young = [:]
            youngCost = 0
        }
        young[key] = dir
        youngCost += dir.cost
    }
}
