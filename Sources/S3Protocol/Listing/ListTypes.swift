/// A validated ListObjects (V1) or ListObjectsV2 request.
public struct ListQuery: Sendable, Equatable {
    public enum Version: Sendable, Equatable { case v1, v2 }
    public var version: Version
    public var prefix: String = ""
    /// nil when absent. An empty delimiter is echoed but groups nothing, as in S3.
    public var delimiter: String?
    /// 0...1000 (larger requests are capped, as S3 does).
    public var maxKeys: Int = 1000
    /// V2 `start-after`.
    public var startAfter: String?
    /// V2 `continuation-token` exactly as the client sent it (opaque to everyone but the backend).
    public var continuationToken: String?
    /// V1 `marker`.
    public var marker: String?
    /// `encoding-type=url`.
    public var encodeURL: Bool = false
    /// V2 `fetch-owner=true` (V1 always includes the owner).
    public var fetchOwner: Bool = false

    public init(version: Version) { self.version = version }
}

/// One object in a listing page.
public struct ListedObject: Sendable, Equatable {
    public var key: String
    public var size: UInt64
    public var lastModified: Timestamp
    /// Quoted ETag, or nil to omit the element.
    public var etag: String?
    public var storageClass: String = "STANDARD"

    public init(key: String, size: UInt64, lastModified: Timestamp, etag: String?) {
        self.key = key
        self.size = size
        self.lastModified = lastModified
        self.etag = etag
    }
}

/// One page of a listing, in S3 order.
public struct ListPage: Sendable, Equatable {
    public var objects: [ListedObject] = []
    public var commonPrefixes: [String] = []
    public var isTruncated: Bool = false
    /// V2: the opaque token for the next page (set when truncated).
    public var nextContinuationToken: String?
    /// V1: NextMarker (the last key or prefix of this page; S3 sends it when a delimiter is set).
    public var nextMarker: String?

    public init() {}
}
