import Posix

/// What a listable directory entry is, decided once when the directory is read.
enum ListEntryKind: UInt8, Sendable {
    /// A regular file (`d_type` or `lstat` said so).
    case file
    /// A real subdirectory.
    case directory
    /// A symlink that resolves, beneath the bucket root, to a regular file.
    case linkedFile
    /// A symlink that resolves, beneath the bucket root, to a directory.
    case linkedDirectory

    var isDirectory: Bool { self == .directory || self == .linkedDirectory }
    var isLink: Bool { self == .linkedFile || self == .linkedDirectory }
}

/// One directory's listable entries in S3 order: by name bytes, a directory `d` sorting as
/// `d/`. Names are packed in one buffer (one allocation for 100,000 names, not 100,000).
/// Immutable once built, so the cache and any number of cursors share it.
final class SortedDirectory {
    private let bytes: [UInt8]
    /// Entry `i` is `bytes[offsets[i]..<offsets[i + 1]]`.
    private let offsets: [UInt32]
    private let kinds: [ListEntryKind]

    var count: Int { kinds.count }
    /// Approximate heap cost, for the cache's budget.
    var cost: Int { bytes.count + offsets.count * 4 + kinds.count + 64 }

    /// Sorts `entries` (names already validated as UTF-8). The sort compares slices of one
    /// packed buffer, so it allocates nothing per comparison.
    init(_ entries: [(name: [UInt8], kind: ListEntryKind)]) {
        var raw: [UInt8] = []
        raw.reserveCapacity(entries.reduce(0) { $0 + $1.name.count })
        var starts: [Int] = []
        starts.reserveCapacity(entries.count + 1)
        for e in entries {
            starts.append(raw.count)
            raw += e.name
        }
        starts.append(raw.count)
        var order = Array(0..<entries.count)
        raw.withUnsafeBufferPointer { buf in
            order.sort { i, j in
                SortedDirectory.compare(UnsafeBufferPointer(rebasing: buf[starts[i]..<starts[i + 1]]), entries[i].kind.isDirectory,
                                        UnsafeBufferPointer(rebasing: buf[starts[j]..<starts[j + 1]]), entries[j].kind.isDirectory) < 0
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(raw.count)
        var offsets: [UInt32] = [0]
        offsets.reserveCapacity(entries.count + 1)
        var kinds: [ListEntryKind] = []
        kinds.reserveCapacity(entries.count)
        for i in order {
            bytes += raw[starts[i]..<starts[i + 1]]
            offsets.append(UInt32(bytes.count))
            kinds.append(entries[i].kind)
        }
        self.bytes = bytes
        self.offsets = offsets
        self.kinds = kinds
    }

    func kind(_ i: Int) -> ListEntryKind { kinds[i] }
    func name(_ i: Int) -> ArraySlice<UInt8> { bytes[Int(offsets[i])..<Int(offsets[i + 1])] }

    /// Three-way comparison of two sort keys (`name` plus `/` for a directory).
    static func compare(_ a: UnsafeBufferPointer<UInt8>, _ aDir: Bool, _ b: UnsafeBufferPointer<UInt8>, _ bDir: Bool) -> Int {
        let n = min(a.count, b.count)
        var i = 0
        while i < n {
            let x = a[i], y = b[i]
            if x != y { return x < y ? -1 : 1 }
            i += 1
        }
        // One name is a prefix of the other: the directory slash (0x2F) takes the next place.
        // (Real names contain no '/', so a slash never meets a slash.)
        let xa: Int = i < a.count ? Int(a[i]) : (aDir ? 0x2F : -1)
        let yb: Int = i < b.count ? Int(b[i]) : (bDir ? 0x2F : -1)
        if xa == yb { return (aDir ? a.count + 1 : a.count) - (bDir ? b.count + 1 : b.count) }
        return xa < yb ? -1 : 1
    }

    /// Compares entry `i`'s sort key with `target`: -1, 0 or 1; with `prefixMatch`, a sort key
    /// that starts with `target` counts as equal (for skipping everything under a prefix).
    func compare(entry i: Int, to target: ArraySlice<UInt8>, prefixMatch: Bool = false) -> Int {
        let n = name(i)
        let isDir = kinds[i].isDirectory
        let keyCount = n.count + (isDir ? 1 : 0)
        var t = target.startIndex
        var j = 0
        while j < keyCount && t != target.endIndex {
            let b = j < n.count ? n[n.startIndex + j] : 0x2F
            let c = target[t]
            if b != c { return b < c ? -1 : 1 }
            j += 1
            t = target.index(after: t)
        }
        if t == target.endIndex { return (j == keyCount || prefixMatch) ? 0 : 1 }
        return -1
    }

    /// The first index whose sort key is ≥ `target` (or, with `prefixMatch`, the first past
    /// every key starting with `target` when `upper` is set).
    func search(_ target: ArraySlice<UInt8>, upperPastPrefix upper: Bool = false) -> Int {
        var lo = 0, hi = count
        while lo < hi {
            let mid = (lo + hi) / 2
            let c = compare(entry: mid, to: target, prefixMatch: upper)
            if c < 0 || (upper && c == 0) { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// Whether entry `i`'s sort key (`name/` for a directory) is a proper prefix of `target`.
    func isProperPrefix(entry i: Int, of target: ArraySlice<UInt8>) -> Bool {
        let n = name(i)
        let keyCount = n.count + (kinds[i].isDirectory ? 1 : 0)
        guard keyCount < target.count else { return false }
        return compare(entry: i, to: target[target.startIndex..<(target.startIndex + keyCount)]) == 0
    }
}

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
    private var young: [Key: SortedDirectory] = [:]
    private var old: [Key: SortedDirectory] = [:]
    private var youngCost = 0
    /// Reads and sorts performed (cache misses), for tests and measurements.
    public private(set) var loads = 0

    /// `budget`: bytes of names and bookkeeping kept across both generations (default 16 MiB,
    /// about a million typical names). `racyWindowSeconds`: how old a directory's mtime must be
    /// before it is trusted as a cache key.
    /// `now` (seconds since the epoch) defaults to the wall clock.
    public init(budget: Int = 16 << 20, racyWindowSeconds: Int64 = 2, now: (() -> Int64)? = nil) {
        self.budget = budget
        self.racyWindowSeconds = racyWindowSeconds
        self.now = now ?? { WallClock.now() }
    }

    /// The sorted directory for `key`, from the cache or from `load` (then remembered if it is
    /// old enough and fits).
    func directory(_ key: Key, load: () throws(Errno) -> SortedDirectory) throws(Errno) -> SortedDirectory {
        if let hit = young[key] { return hit }
        if let hit = old.removeValue(forKey: key) {
            insert(key, hit)
            return hit
        }
        let dir = try load()
        loads += 1
        if key.mtimeSeconds < now() - racyWindowSeconds { insert(key, dir) }
        return dir
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
