import Posix
// TEMPORARY stand-in until the listing branch lands (its version replaces this file).
struct FileLister {
    init(root: FileDescriptor, bucket: String, etag: @escaping (FileDescriptor, FileStat) -> String?) {}
    func list(_ query: ListQuery) throws(S3Error) -> ListPage { throw .notImplemented("listing pending") }
}
