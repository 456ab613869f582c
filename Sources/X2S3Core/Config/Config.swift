public import Auth
public import Browser
public import S3Protocol
public import Storage

/// The whole configuration, as read from `config.yaml` (the original's format) plus `X2S3_*`
/// overrides. Plain values; every default lives here so `config.template.yaml` can mirror it.
public struct Config: Sendable, Equatable {
    /// TRACE/DEBUG/INFO/WARNING/ERROR, as in the original (case-insensitive on input).
    public var logLevel: String = "INFO"
    /// `text` (swift-log's stream format) or `json` (one ECS object per line, as the original 1.6.1).
    public var logFormat: LogFormat = .text
    /// HTML pages for browsers on `/` and folder URLs; `false` means XML only.
    public var ui: Bool = true
    /// Host-based buckets (`bucket.<base host>`); needs `baseURL`.
    public var virtualBuckets: Bool = false
    /// Public URL of the service; its host drives virtual buckets, and it is the UI's home link.
    public var baseURL: BaseURL?
    /// A quick file target appended after `targets` (and replacing one of the same name).
    public var localPath: String?
    /// Name of the `localPath` target.
    public var localName: String = "local"
    /// Bucket targets in config order (the `localPath` one, if any, last).
    public var targets: [Target] = []
    /// Bounds of the supervised worker pool (`pool:`); not a key of the original.
    public var pool = PoolSettings()
    /// Sorted-name caching for listings (`listing_cache`).
    public var listingCache = ListingCacheSettings()
    /// The viewer deployments dataset folders link to (`viewers:`); not a key of the original.
    public var viewers = ViewerSettings()
    /// Access keys for private targets (`credentials:`); secrets read from their files.
    public var credentials: [Credential] = []
    /// The file holding the pool-wide counters (`metrics_file`), for workers that share no
    /// leader (spawn-fcgi's); nil: the leader's shared memory, or one worker's own counts.
    public var metricsFile: String?
    /// Keys the original accepts that have no meaning here; logged once at startup.
    public var ignoredKeys: [String] = []
    /// Settings that load but probably do not do what was meant (e.g. `virtual_buckets`
    /// without `base_url`); logged once at startup.
    public var warnings: [String] = []

    public init() {}

    /// Finds a target by bucket name, case-insensitively; the last of duplicate names wins,
    /// as in the original.
    public func target(named name: String) -> Target? {
        // On every request: ASCII names (all real ones) are compared folding ASCII case in place,
        // sparing two lowercased() copies. Others take the Unicode path.
        var lower: String?
        for target in targets.reversed() {
            if let equal = Self.asciiCaseInsensitiveEqual(target.name, name) {
                if equal { return target }
                continue
            }
            if lower == nil { lower = name.lowercased() }
            if target.name.lowercased() == lower { return target }
        }
        return nil
    }

    private static func isASCIILetter(_ b: UInt8) -> Bool { (b | 0x20) >= UInt8(ascii: "a") && (b | 0x20) <= UInt8(ascii: "z") }

    /// Whether `a` and `b` are equal ignoring ASCII case; nil unless both are ASCII.
    static func asciiCaseInsensitiveEqual(_ a: String, _ b: String) -> Bool? {
        var a = a, b = b
        return a.withUTF8 { x in
            b.withUTF8 { y -> Bool? in
                guard !x.contains(where: { $0 >= 0x80 }), !y.contains(where: { $0 >= 0x80 }) else { return nil }
                guard x.count == y.count else { return false }
                return zip(x, y).allSatisfy { p, q in p == q || (isASCIILetter(p) && p ^ 0x20 == q) }
            }
        }
    }
}

/// How log lines are written (`log_format`).
public enum LogFormat: String, Sendable, Equatable, CaseIterable {
    case text, json
}
