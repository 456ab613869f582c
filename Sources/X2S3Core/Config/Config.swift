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

/// `base_url`, split once at load time.
public struct BaseURL: Sendable, Equatable {
    public var scheme: String
    public var host: String
    public var port: Int?
    /// Always ends with `/` (the original normalises it so).
    public var path: String

    public init(scheme: String, host: String, port: Int?, path: String) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.path = path
    }

    /// The URL as text, e.g. `https://data.example.org/`.
    public var string: String {
        var s = "\(scheme)://\(host)"
        if let port { s += ":\(port)" }
        return s + path
    }
}

/// One bucket.
public struct Target: Sendable, Equatable {
    /// The bucket name as configured (case kept for listings).
    public var name: String
    /// `false` makes the bucket key-only: absent from ListBuckets, listings 403, misses 403.
    public var browseable: Bool = true
    /// `private: true`: only signed requests (or capability links) of a credential allowed on
    /// this bucket are served.
    public var isPrivate: Bool = false
    public var kind: Kind

    public init(name: String, browseable: Bool = true, isPrivate: Bool = false, kind: Kind) {
        self.name = name
        self.browseable = browseable
        self.isPrivate = isPrivate
        self.kind = kind
    }

    /// The two backends; a closed set, so there is no registry.
    public enum Kind: Sendable, Equatable {
        case file(FileOptions)
        case s3(S3Options)
    }
}

/// Options of a `client: file` target.
public struct FileOptions: Sendable, Equatable {
    /// The bucket root directory (must exist; resolved at load time).
    public var path: String
    /// The root as configured (absolute), before symlinks were resolved: re-checked while
    /// serving, so a re-pointed symlink or a replaced directory is followed.
    public var configuredPath: String
    /// Read size when streaming, in bytes.
    public var bufferSize: Int = 65536
    /// Content-MD5 ETags instead of the cheap (mtime, size) ones.
    public var calculateETags: Bool = false
    /// Hand the bytes to nginx with X-Accel-Redirect (only when nginx announces the internal location).
    public var offload: Bool = false
    /// The key prefix the directory is mounted at inside the bucket: empty, or ending in `/`.
    public var virtualPrefix: String = ""

    public init(path: String, configuredPath: String? = nil) {
        self.path = path
        self.configuredPath = configuredPath ?? path
    }

    /// As the original writes it: leading `/` dropped, a trailing `/` added (`a/b` → `a/b/`).
    static func normalizedVirtualPrefix(_ text: String) -> String {
        var p = Substring(text)
        while p.hasPrefix("/") { p = p.dropFirst() }
        if !p.isEmpty && !p.hasSuffix("/") { return p + "/" }
        return String(p)
    }
}

/// Options of a `client: s3` (alias `aioboto`) target.
public struct S3Options: Sendable, Equatable {
    /// Upstream bucket name.
    public var bucket: String
    /// Key prefix the bucket is rooted at; stored without leading or trailing `/`.
    public var prefix: String = ""
    /// Upstream endpoint URL; nil means AWS (`https://s3.<region>.amazonaws.com`).
    public var endpoint: String?
    /// Files holding the credentials; both nil means anonymous (unsigned) requests.
    public var accessKeyPath: String?
    public var secretKeyPath: String?
    /// Signing region.
    public var region: String = "us-east-1"
    /// Pass upstream ETags through (off by default: some stores' ETags are not MD5s).
    public var proxyETag: Bool = false
    /// PEM file of CA certificates for verifying the endpoint's TLS certificate (an internal
    /// CA); from `ca_bundle`, else `AWS_CA_BUNDLE`. nil: the system's CA store.
    public var caBundle: String?
    /// `path` or `virtual` upstream addressing; `auto` means path for custom endpoints.
    public var addressingStyle: String = "auto"
    /// Seconds; from the botocore-style `config` mapping.
    public var connectTimeout: Double = 60
    public var readTimeout: Double = 60
    /// Total attempts for idempotent requests that fail before any byte was sent.
    public var maxAttempts: Int = 3

    public init(bucket: String) { self.bucket = bucket }
}
