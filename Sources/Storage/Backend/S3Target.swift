import Posix
public import S3Protocol

/// An upstream endpoint URL, split once: `https://host:port/base`.
struct Endpoint: Equatable {
    var scheme: String
    /// Host with the port when it is not the scheme's default: what `Host` must say (and
    /// what is signed).
    var authority: String
    /// A path the endpoint lives under, without a trailing `/` (usually empty).
    var basePath: String

    init?(_ url: String) {
        let scheme: String
        let rest: Substring
        if url.lowercased().hasPrefix("https://") {
            scheme = "https"
            rest = url.dropFirst(8)
        } else if url.lowercased().hasPrefix("http://") {
            scheme = "http"
            rest = url.dropFirst(7)
        } else {
            return nil
        }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        var authority = String(rest[..<slash])
        var base = String(rest[slash...])
        while base.hasSuffix("/") { base.removeLast() }
        guard !authority.isEmpty, !authority.contains("@"), !base.contains("?") else { return nil }
        if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]") {
            let port = authority[authority.index(after: colon)...]
            guard let n = Int(port), n > 0, n < 65536 else { return nil }
            if (scheme == "http" && n == 80) || (scheme == "https" && n == 443) { authority = String(authority[..<colon]) }
        }
        self.scheme = scheme
        self.authority = authority.lowercased()
        self.basePath = base
    }
}

/// The key files of a signed target.
public enum S3Credentials {
    /// Why a target's credentials cannot be used; names the file, so it is for the
    /// operator's log only.
    public struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// nil for an anonymous target (no key files); the trimmed key pair otherwise. A
    /// secret without an access key, or the reverse, is a configuration error, as is a
    /// missing, unreadable or empty file.
    public static func load(_ options: S3Options) throws(Problem) -> SigV4.Credentials? {
        switch (options.accessKeyPath, options.secretKeyPath) {
        case (nil, nil):
            return nil
        case (let a?, let s?):
            return SigV4.Credentials(accessKey: try read(a, "access_key_path"), secretKey: try read(s, "secret_key_path"))
        case (nil, _?):
            throw Problem(description: "secret_key_path is set but access_key_path is not")
        case (_?, nil):
            throw Problem(description: "access_key_path is set but secret_key_path is not")
        }
    }

    private static func read(_ path: String, _ option: String) throws(Problem) -> String {
        let bytes: [UInt8]
        do {
            bytes = try FileDescriptor.openFile(path).readAll(limit: 4096)
        } catch {
            throw Problem(description: "\(option) \(path): \(error)")
        }
        let text = String(decoding: bytes, as: UTF8.self).filter { !$0.isWhitespace }
        guard !text.isEmpty else { throw Problem(description: "\(option) \(path) is empty") }
        return text
    }
}
