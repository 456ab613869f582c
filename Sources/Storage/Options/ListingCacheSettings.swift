import Posix

/// `listing_cache`: how much a worker keeps of sorted directory names, and where the sorted
/// names of huge directories are shared with the other workers.
public struct ListingCacheSettings: Sendable, Equatable {
    /// Per-worker memory for sorted names (`memory_mb`).
    public var memoryBytes: Int = 16 << 20
    /// The shared index directory (`index_dir`); by default `$TMPDIR/x2s3-<uid>/listing-index`.
    public var indexPath: String
    /// Bound on the index files' total size (`index_max_mb`); 0 turns the index off.
    public var indexBytes: Int = 1 << 30
    /// Directories with at least this many entries go to the index (`index_min_entries`).
    public var indexMinEntries: Int = 10_000

    public init(temporaryDirectory: String = "/tmp") {
        indexPath = "\(temporaryDirectory)/x2s3-\(CurrentProcess.effectiveUser)/listing-index"
    }
}
