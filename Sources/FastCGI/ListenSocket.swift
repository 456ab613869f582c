import Glibc

/// A listening socket opened for a pool (mode B). Children inherit `fd`; only the parent calls
/// `close()`, which also removes a unix socket file this process created.
///
/// Not `FCGX_OpenSocket`: in libfcgi 2.4.2 it prints `bind/listen: …` with perror and
/// calls `exit()` when the address is taken (so no one-line `x2s3:` error), unlinks whatever file
/// is at a unix path (even a live server's socket), and has no IPv6. This does the same job with
/// `socket`/`bind`/`listen` and reports errors as `FastCGIError`.
///
/// Unix sockets are created with mode 0660 (owner and group may connect): nginx connects when it
/// runs in the socket's group — run x2s3 with that group (systemd `Group=www-data` or a setgid
/// socket directory). 0666 would let any local user bypass nginx's own access rules and reach the
/// gateway directly; group access is the least that works.
public struct ListenSocket: Sendable {
    /// The listening descriptor (non-blocking once a `FastCGIRequest` uses it).
    public let fd: Int32
    /// The unix socket file this process created, removed by `close()`.
    public let createdPath: String?

    /// Backlog for `listen`: nginx opens a connection per request, so bursts queue here.
    static let backlog: Int32 = 1024

    /// Opens and listens on `address`. Wraps `socket`, `setsockopt`, `bind`, `listen` (and
    /// `getaddrinfo` for TCP, `connect`/`unlink` to replace a stale unix socket file).
    public static func open(_ address: ListenAddress) throws(FastCGIError) -> ListenSocket {
        switch address {
        case .unix(let path):
            return ListenSocket(fd: try openUnix(path: path), createdPath: path)
        case .tcp(let host, let port):
            return ListenSocket(fd: try openTCP(host: host, port: port, family: AF_INET, address: address), createdPath: nil)
        case .tcp6(let host, let port):
            return ListenSocket(fd: try openTCP(host: host, port: port, family: AF_INET6, address: address), createdPath: nil)
        }
    }

    /// Closes the descriptor and removes the socket file this process created. Wraps `close`, `unlink`.
    public func close() {
        if let createdPath { unlink(createdPath) }
        _ = Glibc.close(fd)
    }

    private static func openUnix(path: String) throws(FastCGIError) -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        // SAFETY: the path (checked shorter than sun_path above) is copied into the address inside the
        //  closure; bind reads the address as the sockaddr its family says it is, for exactly its size.
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: path.utf8.prefix(ListenAddress.maxUnixPathBytes))
        }
        try removeStaleSocket(path: path, address: address)
        let fd = try systemCall("socket", "unix:\(path)") { socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        do {
            // umask, not chmod after bind: the file never exists with wider permissions.
            let previous = umask(0o117)
            defer { umask(previous) }
            try systemCall("bind", "unix:\(path)") {
                withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                    }
                }
            }
            try systemCall("listen", "unix:\(path)") { listen(fd, backlog) }
            return fd
        } catch {
            _ = Glibc.close(fd)
            throw error
        }
    }

    /// A socket file left by a crashed pool is replaced; a live one (something accepts) or a
    /// non-socket file is an error rather than silently unlinked.
    private static func removeStaleSocket(path: String, address: sockaddr_un) throws(FastCGIError) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard info.st_mode & S_IFMT == S_IFSOCK else {
            throw .system(call: "bind", errno: EEXIST, context: "unix:\(path) (not a socket)")
        }
        let probe = try systemCall("socket", "unix:\(path)") { socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        defer { _ = Glibc.close(probe) }
        var target = address
        // SAFETY: target lives for the call; connect reads it as a sockaddr of the size given.
        let connected = withUnsafePointer(to: &target) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(probe, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        if connected == 0 {
            throw .system(call: "bind", errno: EADDRINUSE, context: "unix:\(path) (a server is listening there)")
        }
        try systemCall("unlink", "stale unix:\(path)") { unlink(path) }
    }

    private static func openTCP(host: String, port: UInt16, family: Int32, address: ListenAddress) throws(FastCGIError) -> Int32 {
        var hints = addrinfo()
        hints.ai_family = family
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        // SAFETY: getaddrinfo's list is freed by freeaddrinfo in the defer below, and no pointer into it
        //  outlives this function.
        var list: UnsafeMutablePointer<addrinfo>?
        let resolved = getaddrinfo(host, String(port), &hints, &list)
        guard resolved == 0, let first = list else {
            let reason = gai_strerror(resolved).map { String(cString: $0) } ?? "code \(resolved)"
            throw .badAddress(address.description, reason: "cannot resolve host: \(reason)")
        }
        defer { freeaddrinfo(list) }
        var lastError = FastCGIError.badAddress(address.description, reason: "no address")
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let entry = candidate {
            candidate = entry.pointee.ai_next
            do {
                return try bindTCP(entry.pointee, family: family, address: address)
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    private static func bindTCP(_ entry: addrinfo, family: Int32, address: ListenAddress) throws(FastCGIError) -> Int32 {
        let context = address.description
        let fd = try systemCall("socket", context) { socket(entry.ai_family, entry.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), entry.ai_protocol) }
        do {
            var on: Int32 = 1
            let size = socklen_t(MemoryLayout<Int32>.size)
            // Restart without waiting for TIME_WAIT connections of the previous run to expire.
            try systemCall("setsockopt", "SO_REUSEADDR \(context)") { setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, size) }
            if family == AF_INET6 {
                try systemCall("setsockopt", "IPV6_V6ONLY \(context)") { setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &on, size) }
            }
            try systemCall("bind", context) { bind(fd, entry.ai_addr, entry.ai_addrlen) }
            try systemCall("listen", context) { listen(fd, backlog) }
            return fd
        } catch {
            _ = Glibc.close(fd)
            throw error
        }
    }
}
