import Posix

/// The few filesystem questions the loader asks, in one place: read the config file, resolve
/// a bucket directory, check a credential file is readable. Each answer is a `Result` whose
/// failure is a sentence fragment the caller places after the key path.
enum ConfigFiles {
    /// Why a file could not be read; `missing` is told apart so an implicit config may be absent.
    enum ReadFailure: Error {
        case missing
        case other(String)
    }

    /// The whole file as UTF-8 text. Wraps `open`, `read` and `close` (through Posix).
    static func read(_ path: String) -> Result<String, ReadFailure> {
        // A config file is a few KiB; refuse anything that is clearly not one.
        let limit = 16 << 20
        let bytes: [UInt8]
        do {
            bytes = try FileDescriptor.openFile(path).readAll(limit: limit + 1)
        } catch {
            return .failure(error == .noSuchFileOrDirectory ? .missing : .other(error.description))
        }
        if bytes.count > limit { return .failure(.other("larger than 16 MiB")) }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            return .failure(.other("not valid UTF-8"))
        }
        return .success(text)
    }

    /// `path` made absolute against the working directory, symlinks kept (a bucket root is
    /// re-checked by this name while serving, so a re-pointed symlink is followed).
    static func absolute(_ path: String) -> String {
        guard !path.hasPrefix("/"), let cwd = PathLookup.workingDirectory() else { return path }
        return cwd + "/" + path
    }

    /// The canonical path of an existing directory. Wraps `realpath` and `stat` (through Posix).
    static func directory(_ path: String) -> Result<String, ConfigFailure> {
        let real: String
        do {
            real = try PathLookup.realPath(path)
        } catch {
            return .failure(.init(error == .noSuchFileOrDirectory || error == .notDirectory
                ? "directory \(path) does not exist" : "directory \(path): \(error)"))
        }
        let info: FileStat
        do { info = try PathLookup.stat(real) } catch { return .failure(.init("directory \(path): \(error)")) }
        guard info.kind == .directory else { return .failure(.init("\(path) is not a directory")) }
        return .success(real)
    }

    /// Whether a regular file exists and this process may read it. Wraps `stat` and `access`
    /// (through Posix); the content is left alone so secrets never enter the config.
    static func readableFile(_ path: String) -> Result<Void, ConfigFailure> {
        let info: FileStat
        do {
            info = try PathLookup.stat(path)
        } catch {
            return .failure(.init(error == .noSuchFileOrDirectory ? "file \(path) does not exist" : "file \(path): \(error)"))
        }
        guard info.kind == .regular else { return .failure(.init("\(path) is not a regular file")) }
        do { try PathLookup.checkReadable(path) } catch { return .failure(.init("file \(path) is not readable: \(error)")) }
        return .success(())
    }
}

/// A filesystem check's failure message.
struct ConfigFailure: Error {
    var message: String
    init(_ message: String) { self.message = message }
}
