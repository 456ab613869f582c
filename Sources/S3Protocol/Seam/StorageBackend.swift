public import Posix

/// The storage seam: a backend answers facts about keys and hands out bodies; everything
/// HTTP (ranges, conditionals, headers, masking) lives above it, written once.
public protocol StorageBackend {
    /// Facts about one object, without reading its bytes. A missing key (or a directory)
    /// throws `.noSuchKey`.
    func head(_ key: String) throws(S3Error) -> ObjectInfo
    /// Opens one object for reading. `range` is what the client asked for (already parsed),
    /// so a remote backend can fetch only those bytes; a local one may ignore it.
    func open(_ key: String, range: ByteRangeRequest?) throws(S3Error) -> any ObjectBody
    /// One page of a listing.
    func list(_ query: ListQuery) throws(S3Error) -> ListPage
    /// The bucket's CreationDate in seconds since the epoch, when the storage has one.
    var creationDate: Int64? { get }
}

/// A point in time as the filesystem reports it.
public struct Timestamp: Sendable, Equatable, Comparable, Hashable {
    public var seconds: Int64
    public var nanoseconds: Int64
    public init(seconds: Int64, nanoseconds: Int64 = 0) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }
    public static func < (a: Timestamp, b: Timestamp) -> Bool {
        (a.seconds, a.nanoseconds) < (b.seconds, b.nanoseconds)
    }
}

/// What a backend knows about one object.
public struct ObjectInfo: Sendable, Equatable {
    public var size: UInt64
    public var lastModified: Timestamp
    /// The quoted entity tag, or nil when the backend must not expose one.
    public var etag: String?
    /// A stored content type (S3 upstream); nil means "guess from the key".
    public var contentType: String?

    public init(size: UInt64, lastModified: Timestamp, etag: String?, contentType: String? = nil) {
        self.size = size
        self.lastModified = lastModified
        self.etag = etag
        self.contentType = contentType
    }
}

/// An opened object: its facts plus a way to stream byte ranges of it.
public protocol ObjectBody: AnyObject {
    var info: ObjectInfo { get }
    /// The bytes this body can deliver: the whole object for a local file, or what the
    /// upstream actually sent for a remote one (after it applied the client's range).
    var available: Range<UInt64> { get }
    /// Streams `range` (a subrange of `available`) into `writer`. Stops at the first sink
    /// error; a failure after bytes were sent can only cut the stream.
    func stream<S: ResponseSink>(_ range: Range<UInt64>, into writer: inout BodyWriter<S>) throws
    /// The local regular file holding the bytes, when there is one: how the body may be
    /// delivered (`Delivery.choose`) follows from it. nil for a remote or in-memory body.
    var localFile: LocalFile? { get }
}

/// A body's bytes as a local regular file.
public struct LocalFile {
    /// The open file, owned by the body (lent for as long as the body lives).
    public let descriptor: FileDescriptor
    /// Its absolute path, when the file was opened without following any symlink, so nginx may
    /// re-open it by that name (offload); nil otherwise.
    public let symlinkFreePath: String?

    package init(descriptor: FileDescriptor, symlinkFreePath: String?) {
        self.descriptor = descriptor
        self.symlinkFreePath = symlinkFreePath
    }
}
