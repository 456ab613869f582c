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
    package static func normalizedVirtualPrefix(_ text: String) -> String {
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
