/// Where a pool listens, written as a URL the way fcgiwrap does: `unix:/run/x2s3.sock`,
/// `tcp:127.0.0.1:9000`, `tcp:[::1]:9000` or `tcp6:[::1]:9000`. Parsing is pure; `ListenSocket`
/// opens it.
public enum ListenAddress: Equatable, Sendable, CustomStringConvertible {
    /// A unix-domain socket at this path (relative paths are relative to the working directory).
    case unix(path: String)
    /// IPv4 (a name resolves to its IPv4 addresses). `host` is never empty.
    case tcp(host: String, port: UInt16)
    /// IPv6 (only IPv6: the socket is V6ONLY). `host` is written without brackets.
    case tcp6(host: String, port: UInt16)

    /// The longest unix socket path `sockaddr_un.sun_path` holds (108 bytes with its NUL).
    static let maxUnixPathBytes = 107

    /// Parses `unix:PATH`, `tcp:HOST:PORT` (HOST may be `[v6]`), `tcp6:[ADDR]:PORT`.
    public init(parsing text: String) throws(FastCGIError) {
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst(5))
            guard !path.isEmpty else { throw .badAddress(text, reason: "empty path") }
            guard path.utf8.count <= Self.maxUnixPathBytes else {
                throw .badAddress(text, reason: "path longer than \(Self.maxUnixPathBytes) bytes")
            }
            guard !path.utf8.contains(0) else { throw .badAddress(text, reason: "NUL in path") }
            self = .unix(path: path)
        } else if text.hasPrefix("tcp6:") {
            let (host, port, bracketed) = try Self.hostAndPort(text.dropFirst(5), whole: text)
            guard bracketed else { throw .badAddress(text, reason: "an IPv6 host is written in brackets") }
            self = .tcp6(host: host, port: port)
        } else if text.hasPrefix("tcp:") {
            let (host, port, bracketed) = try Self.hostAndPort(text.dropFirst(4), whole: text)
            self = bracketed ? .tcp6(host: host, port: port) : .tcp(host: host, port: port)
        } else {
            throw .badAddress(text, reason: "unknown scheme")
        }
    }

    /// Splits `HOST:PORT` or `[HOST]:PORT` at the last colon.
    private static func hostAndPort(
        _ rest: Substring, whole: String
    ) throws(FastCGIError) -> (host: String, port: UInt16, bracketed: Bool) {
        guard let colon = rest.lastIndex(of: ":") else { throw .badAddress(whole, reason: "no port") }
        var host = rest[..<colon]
        let portText = rest[rest.index(after: colon)...]
        guard !portText.isEmpty, portText.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              let port = UInt16(portText), port > 0
        else { throw .badAddress(whole, reason: "port must be 1-65535") }
        var bracketed = false
        if host.hasPrefix("[") {
            guard host.hasSuffix("]"), host.count > 2 else { throw .badAddress(whole, reason: "unclosed '['") }
            host = host.dropFirst().dropLast()
            bracketed = true
        } else if host.contains(":") {
            throw .badAddress(whole, reason: "an IPv6 host is written in brackets")
        }
        guard !host.isEmpty else { throw .badAddress(whole, reason: "empty host (use 0.0.0.0 for all)") }
        return (String(host), port, bracketed)
    }

    /// The address in the form it was given (`tcp6` for bracketed hosts).
    public var description: String {
        switch self {
        case .unix(let path): return "unix:\(path)"
        case .tcp(let host, let port): return "tcp:\(host):\(port)"
        case .tcp6(let host, let port): return "tcp6:[\(host)]:\(port)"
        }
    }
}
