import Glibc

/// The few filesystem questions the loader asks, in one place: read the config file, resolve
/// a bucket directory, check a credential file is readable. Each answer is a `Result` whose
/// failure is a sentence fragment the caller places after the key path.
enum ConfigFiles {
    /// Why a file could not be read; `missing` is told apart so an implicit config may be absent.
    enum ReadFailure: Error {
        case missing
        case other(String)
    }

    /// The whole file as UTF-8 text. Wraps `open`, `read` and `close`.
    static func read(_ path: String) -> Result<String, ReadFailure> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            let code = errno
            return .failure(code == ENOENT ? .missing : .other(describe(code)))
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n == 0 { break }
            if n < 0 {
                if errno == EINTR { continue }
                return .failure(.other(describe(errno)))
            }
            bytes += chunk[0..<n]
            // A config file is a few KiB; refuse anything that is clearly not one.
            if bytes.count > 16 << 20 { return .failure(.other("larger than 16 MiB")) }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            return .failure(.other("not valid UTF-8"))
        }
        return .success(text)
    }

    /// The canonical path of an existing directory. Wraps `realpath` and `stat`.
    /// `path` made absolute against the working directory, symlinks kept (a bucket root is
    /// re-checked by this name while serving, so a re-pointed symlink is followed).
    static func absolute(_ path: String) -> String {
        guard !path.hasPrefix("/"), let cwd = getcwd(nil, 0) else { return path }
        defer { free(cwd) }
        return String(cString: cwd) + "/" + path
    }

    static func directory(_ path: String) -> Result<String, ConfigFailure> {
        guard let resolved = realpath(path, nil) else {
            let code = errno
            return .failure(.init(code == ENOENT || code == ENOTDIR
                ? "directory \(path) does not exist" : "directory \(path): \(describe(code))"))
        }
        defer { free(resolved) }
        let real = String(cString: resolved)
        var info = stat()
        guard stat(real, &info) == 0 else { return .failure(.init("directory \(path): \(describe(errno))")) }
        guard info.st_mode & S_IFMT == S_IFDIR else { return .failure(.init("\(path) is not a directory")) }
        return .success(real)
    }

    /// Whether a regular file exists and this process may read it. Wraps `stat` and `access`;
    /// the content is left alone so secrets never enter the config.
    static func readableFile(_ path: String) -> Result<Void, ConfigFailure> {
        var info = stat()
        guard stat(path, &info) == 0 else {
            let code = errno
            return .failure(.init(code == ENOENT ? "file \(path) does not exist" : "file \(path): \(describe(code))"))
        }
        guard info.st_mode & S_IFMT == S_IFREG else { return .failure(.init("\(path) is not a regular file")) }
        guard access(path, R_OK) == 0 else { return .failure(.init("file \(path) is not readable: \(describe(errno))")) }
        return .success(())
    }

    private static func describe(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}

/// A filesystem check's failure message.
struct ConfigFailure: Error {
    var message: String
    init(_ message: String) { self.message = message }
}
