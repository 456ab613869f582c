// TEMPORARY stand-in until the S3 upstream backend lands (its version replaces this file).
final class S3Backend: StorageBackend {
    init(bucket: String, options: S3Options) throws(S3Error) { throw .notImplemented("S3 targets are not available yet") }
    func head(_ key: String) throws(S3Error) -> ObjectInfo { throw .notImplemented("") }
    func open(_ key: String, range: ByteRangeRequest?) throws(S3Error) -> any ObjectBody { throw .notImplemented("") }
    func list(_ query: ListQuery) throws(S3Error) -> ListPage { throw .notImplemented("") }
}
