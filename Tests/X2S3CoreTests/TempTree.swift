import Glibc
import Posix

/// A scratch directory tree for filesystem tests, removed (recursively) on deinit.
/// Paths are byte strings so tests can create names that are not UTF-8.
final class TempTree {
    let path: String
    private let keep: Bool

    /// An existing (or new) directory at `path` that is kept afterwards: for manual benchmarks.
    init(keeping path: String) {
        self.path = path
        keep = true
        _ = mkdir(path, 0o755)
    }

    /// Whether `rel` exists (benchmarks reuse a tree built by an earlier run).
    func exists(_ rel: String) -> Bool {
        var st = stat()
        return lstat(path + "/" + rel, &st) == 0
    }

    init() {
        keep = false
        var template = Array("/tmp/x2s3-test-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    deinit { if !keep { TempTree.remove(Array(path.utf8)) } }

    private func full(_ rel: [UInt8]) -> [UInt8] { Array(path.utf8) + [0x2F] + rel }

    private static func withCPath<R>(_ p: [UInt8], _ body: (UnsafePointer<CChar>) -> R) -> R {
        (p + [0]).withUnsafeBufferPointer { buf in
            buf.withMemoryRebound(to: CChar.self) { body($0.baseAddress!) }
        }
    }

    /// Creates the parent directories of `rel` as needed.
    private func parents(_ rel: [UInt8]) {
        var i = 0
        while let slash = rel[i...].firstIndex(of: 0x2F) {
            TempTree.withCPath(full(Array(rel[..<slash]))) { _ = mkdir($0, 0o755) }
            i = slash + 1
        }
    }

    /// A regular file with `size` bytes of content (and parents as needed).
    @discardableResult
    func file(_ rel: String, size: Int = 0, mtime: Int? = nil) -> TempTree { fileBytes(Array(rel.utf8), size: size, mtime: mtime) }

    @discardableResult
    func fileBytes(_ rel: [UInt8], size: Int = 0, mtime: Int? = nil) -> TempTree {
        parents(rel)
        let fd = TempTree.withCPath(full(rel)) { open($0, O_WRONLY | O_CREAT | O_TRUNC, 0o644) }
        precondition(fd >= 0, "create failed: \(String(decoding: rel, as: UTF8.self))")
        if size > 0 {
            let data = [UInt8](repeating: 0x61, count: size)
            _ = data.withUnsafeBytes { write(fd, $0.baseAddress, size) }
        }
        close(fd)
        if let mtime {
            var times = [timespec(tv_sec: mtime, tv_nsec: 0), timespec(tv_sec: mtime, tv_nsec: 0)]
            _ = TempTree.withCPath(full(rel)) { utimensat(AT_FDCWD, $0, &times, 0) }
        }
        return self
    }

    /// An (empty) directory, and its parents.
    @discardableResult
    func dir(_ rel: String) -> TempTree {
        let r = Array(rel.utf8)
        parents(r + [0x2F])
        return self
    }

    /// A symlink at `rel` whose content is `target`.
    @discardableResult
    func symlink(_ rel: String, to target: String) -> TempTree {
        let r = Array(rel.utf8)
        parents(r)
        let rc = TempTree.withCPath(full(r)) { Glibc.symlink(target, $0) }
        precondition(rc == 0, "symlink failed")
        return self
    }

    /// A FIFO at `rel`.
    @discardableResult
    func fifo(_ rel: String) -> TempTree {
        let r = Array(rel.utf8)
        parents(r)
        _ = TempTree.withCPath(full(r)) { mkfifo($0, 0o644) }
        return self
    }

    /// chmod of `rel`.
    func chmod(_ rel: String, _ mode: mode_t) {
        _ = TempTree.withCPath(full(Array(rel.utf8))) { Glibc.chmod($0, mode) }
    }

    /// chown of `rel` (root only).
    func chown(_ rel: String, _ owner: uid_t, _ group: gid_t) {
        _ = TempTree.withCPath(full(Array(rel.utf8))) { Glibc.chown($0, owner, group) }
    }

    /// The tree's root as a bucket root descriptor.
    func root() -> FileDescriptor { try! FileDescriptor.openDirectory(path) }

    private static func remove(_ p: [UInt8]) {
        var st = stat()
        guard withCPath(p, { lstat($0, &st) }) == 0 else { return }
        if st.st_mode & S_IFMT == S_IFDIR {
            _ = withCPath(p) { Glibc.chmod($0, 0o755) }
            var names: [[UInt8]] = []
            if let d = withCPath(p, { opendir($0) }) {
                while let e = readdir(d) {
                    let name: [UInt8] = withUnsafeBytes(of: e.pointee.d_name) { raw in
                        let b = raw.bindMemory(to: UInt8.self)
                        return Array(b[0..<(b.firstIndex(of: 0) ?? b.count)])
                    }
                    if name != [0x2E] && name != [0x2E, 0x2E] { names.append(name) }
                }
                closedir(d)
            }
            for n in names { remove(p + [0x2F] + n) }
            _ = withCPath(p) { rmdir($0) }
        } else {
            _ = withCPath(p) { unlink($0) }
        }
    }
}
