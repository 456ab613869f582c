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

    static let keys = ["memory_mb", "index_dir", "index_max_mb", "index_min_entries"]

    /// Reads the `listing_cache` mapping over the defaults.
    mutating func decode(_ value: ConfigValue) throws(ConfigError) {
        let f = try value.fields(allowing: Self.keys)
        func present(_ key: String) -> ConfigValue? { f[key].flatMap { $0.isNull ? nil : $0 } }
        if let v = present("memory_mb") { memoryBytes = try v.int(in: 1...65536) << 20 }
        if let v = present("index_dir") { indexPath = try v.nonEmptyString() }
        if let v = present("index_max_mb") { indexBytes = try v.int(in: 0...(1 << 30)) << 20 }
        if let v = present("index_min_entries") { indexMinEntries = try v.int(in: 1...Int(Int32.max)) }
    }
}
