import Posix
public import S3Protocol

/// A POSIX directory as a bucket. Keys resolve under the root with openat2(RESOLVE_BENEATH),
/// so `..`, absolute paths and symlinks leading outside are refused by the kernel itself, with
/// no window between a check and the open.
public final class FileBackend: StorageBackend {
    /// The root directory, re-validated against its configured path (datasets get replaced).
    let bucketRoot: BucketRoot
    var root: FileDescriptor { bucketRoot.current }
    let options: FileOptions
    let bucket: String
    let etags: ETagPolicy
    /// Sorted directory names, kept across requests so paging a huge directory does not
    /// re-read and re-sort it for every page (one per worker, shared by its file buckets).
    let listCache: SortedNameCache

    /// Opens the bucket root. Fails if the directory is gone (the config checked it at start).
    public init(bucket: String, options: FileOptions, listCache: SortedNameCache? = nil) throws(S3Error) {
        self.listCache = listCache ?? SortedNameCache()
        do {
            bucketRoot = try BucketRoot(configuredPath: options.configuredPath, realPath: options.path)
        } catch {
            throw .serviceUnavailable("The bucket's storage is not available.")
        }
        self.options = options
        self.bucket = bucket
        self.etags = ETagPolicy(calculate: options.calculateETags)
    }

    /// The root directory's modification time, reported as the bucket's CreationDate.
    public var rootModified: Int64 { (try? root.stat().mtimeSeconds) ?? 0 }

    public var creationDate: Int64? { rootModified }

    public func head(_ key: String) throws(S3Error) -> ObjectInfo {
        try inDirectory(key) { name throws(S3Error) in try openFile(name).1 }
    }

    public func open(_ key: String, range: ByteRangeRequest?) throws(S3Error) -> any ObjectBody {
        try inDirectory(key) { name throws(S3Error) -> any ObjectBody in
            if options.offload, let body = openOffloadable(name) { return body }
            let (fd, info) = try openFile(name)
            return FileObjectBody(fd: fd, info: info, bufferSize: options.bufferSize)
        }
    }

    /// Runs `body` with the key's name in the directory (`virtual_prefix` removed); a key
    /// outside the virtual prefix does not exist. A NoSuchKey names the key the client asked for.
    private func inDirectory<T>(_ key: String, _ body: (String) throws(S3Error) -> T) throws(S3Error) -> T {
        let prefix = options.virtualPrefix
        if prefix.isEmpty { return try body(key) }
        guard key.utf8.starts(with: prefix.utf8) else { throw .noSuchKey(key: key) }
        do {
            return try body(String(decoding: key.utf8.dropFirst(prefix.utf8.count), as: UTF8.self))
        } catch .noSuchKey {
            throw .noSuchKey(key: key)
        }
    }

    public func list(_ query: ListQuery) throws(S3Error) -> ListPage {
        let page = try lister().list(query)
        // An empty page is a miss: if the root was replaced meanwhile, list the new one.
        guard page.objects.isEmpty, page.commonPrefixes.isEmpty, query.maxKeys > 0,
              bucketRoot.revalidateAfterMiss() else { return page }
        return try lister().list(query)
    }

    private func lister() -> FileLister {
        let etags = self.etags
        return FileLister(root: root, bucket: bucket, cache: listCache, virtualPrefix: options.virtualPrefix) { stat, open in
            etags.etag(stat: stat, open: open)
        }
    }

    /// Opens a key that names a regular file, or throws `.noSuchKey`. Keys that no listing
    /// could produce (empty, `.`/`..` segments, `//`, a trailing `/`) do not exist.
    func openFile(_ key: String) throws(S3Error) -> (FileDescriptor, ObjectInfo) {
        guard FileBackend.isListableKey(key) else { throw .noSuchKey(key: key) }
        let fd: FileDescriptor
        let st: FileStat
        do {
            do {
                fd = try root.openBeneath(key)
            } catch where FileBackend.isMiss(error) && bucketRoot.revalidateAfterMiss() {
                // The root was replaced since the last check: the key may exist in the new one.
                fd = try root.openBeneath(key)
            }
            st = try fd.stat()
        } catch {
            throw FileBackend.map(error, key: key)
        }
        guard st.kind == .regular else { throw .noSuchKey(key: key) }
        let info = ObjectInfo(size: st.size, lastModified: Timestamp(seconds: st.mtimeSeconds, nanoseconds: st.mtimeNanoseconds),
                              etag: etags.etag(for: fd, stat: st))
        return (fd, info)
    }

    /// For offload targets: the key opened with no symlink anywhere in its path, so its absolute
    /// path names it for nginx (Storage/Delivery/Offload.swift); nil when that fails for any reason (a
    /// symlink, a miss, a directory), so the caller takes the usual path and reports the usual
    /// error. Same facts and ETag as `openFile`.
    private func openOffloadable(_ key: String) -> FileObjectBody? {
        let root = self.root
        guard FileBackend.isListableKey(key),
              let fd = try? root.openBeneathNoSymlinks(key),
              let st = try? fd.stat(), st.kind == .regular
        else { return nil }
        let info = ObjectInfo(size: st.size, lastModified: Timestamp(seconds: st.mtimeSeconds, nanoseconds: st.mtimeNanoseconds),
                              etag: etags.etag(for: fd, stat: st))
        // The realpath of the directory opened now (re-resolved when the root was replaced).
        return FileObjectBody(fd: fd, info: info, bufferSize: options.bufferSize,
                              symlinkFreePath: bucketRoot.realPath + "/" + key)
    }

    static func isListableKey(_ key: String) -> Bool {
        // Contiguous bytes, because a UTF8View walk is slow per byte and this runs on every GET.
        key.utf8.withContiguousStorageIfAvailable(isListableKey) ?? isListableKey(Array(key.utf8))
    }

    private static func isListableKey<C: Collection<UInt8>>(_ key: C) -> Bool {
        // A NUL would end the C path early and name another file.
        if key.isEmpty || key.contains(0) { return false }
        // One pass over the bytes (a Character-wise split was a hot spot on every GET): every
        // `/`-separated segment must be non-empty and not `.` or `..` (dots == length ≤ 2).
        var length = 0, dots = 0
        for b in key {
            if b == UInt8(ascii: "/") {
                if length == 0 || (length == dots && dots <= 2) { return false }
                length = 0
                dots = 0
            } else {
                length += 1
                if b == UInt8(ascii: ".") { dots += 1 }
            }
        }
        return length != 0 && !(length == dots && dots <= 2)
    }

    /// Errors that mean "not here", after which the root is worth re-validating at once.
    static func isMiss(_ errno: Errno) -> Bool {
        errno == .noSuchFileOrDirectory || errno == .notDirectory || errno == .stale
    }

    /// errno → S3: anything that means "no such object here" is NoSuchKey (including paths
    /// the kernel refused to resolve beneath the root); storage trouble is a retryable 503.
    static func map(_ errno: Errno, key: String) -> S3Error {
        switch errno {
        case .ioError, .stale: return .serviceUnavailable("The storage returned an I/O error; please retry.")
        case .tooManyOpenFiles: return .slowDown("Please reduce your request rate.")
        default: return .noSuchKey(key: key)
        }
    }
}

/// An open regular file, streamed with pread in `bufferSize` chunks (or spliced by the sink:
/// `Delivery`).
final class FileObjectBody: ObjectBody {
    let fd: FileDescriptor
    let info: ObjectInfo
    let bufferSize: Int
    /// The absolute path, when the file was opened with no symlink anywhere in it (offload).
    let symlinkFreePath: String?
    var available: Range<UInt64> { 0..<info.size }
    var localFile: LocalFile? { LocalFile(descriptor: fd, symlinkFreePath: symlinkFreePath) }

    init(fd: FileDescriptor, info: ObjectInfo, bufferSize: Int, symlinkFreePath: String? = nil) {
        self.fd = fd
        self.info = info
        self.bufferSize = bufferSize
        self.symlinkFreePath = symlinkFreePath
    }

    func stream<S: ResponseSink>(_ range: Range<UInt64>, into writer: inout BodyWriter<S>) throws {
        guard !range.isEmpty else { return }
        let size = Int(min(UInt64(bufferSize), UInt64(range.count)))
        // SAFETY: the buffer is freed by the defer below; reads fill at most want bytes, and only the n read
        //  are written on.
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
        defer { buffer.deallocate() }
        var offset = range.lowerBound
        while offset < range.upperBound {
            let want = Int(min(UInt64(size), range.upperBound - offset))
            let n = try fd.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want]), at: offset)
            // The file shrank under us: we cannot pad, so the stream is cut short.
            if n == 0 { throw S3Error.internalError("file truncated while streaming") }
            try writer.write(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            offset += UInt64(n)
        }
    }
}
