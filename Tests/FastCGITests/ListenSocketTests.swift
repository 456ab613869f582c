import FastCGI
import Glibc
import Testing

@Suite struct ListenSocketTests {
    private func temporaryDirectory() -> String {
        var template = Array("/tmp/x2s3-fcgi-test.XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil)
        return template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    @Test func unixSocketIsGroupReadWritableAndRemovedOnClose() throws {
        let dir = temporaryDirectory()
        defer { rmdir(dir) }
        let path = dir + "/s.sock"
        let socket = try ListenSocket.open(.unix(path: path))
        var info = stat()
        #expect(stat(path, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o660)
        socket.close()
        #expect(access(path, F_OK) != 0)
    }

    @Test func liveUnixSocketIsNotReplaced() throws {
        let dir = temporaryDirectory()
        defer { rmdir(dir) }
        let path = dir + "/s.sock"
        let first = try ListenSocket.open(.unix(path: path))
        defer { first.close() }
        #expect(throws: FastCGIError.self) { try ListenSocket.open(.unix(path: path)) }
    }

    @Test func staleUnixSocketIsReplaced() throws {
        let dir = temporaryDirectory()
        defer { rmdir(dir) }
        let path = dir + "/s.sock"
        let crashed = try ListenSocket.open(.unix(path: path))
        _ = Glibc.close(crashed.fd)  // the file stays, nothing listens: what a SIGKILLed pool leaves
        let second = try ListenSocket.open(.unix(path: path))
        second.close()
    }

    @Test func regularFileIsNotReplaced() throws {
        let dir = temporaryDirectory()
        let path = dir + "/file"
        let fd = open(path, O_CREAT | O_WRONLY, 0o600)
        _ = Glibc.close(fd)
        defer { unlink(path); rmdir(dir) }
        #expect(throws: FastCGIError.self) { try ListenSocket.open(.unix(path: path)) }
        #expect(access(path, F_OK) == 0)
    }

    @Test func takenTCPPortIsAnError() throws {
        // The first free port of a small range (another process may hold any one of them).
        let ports: ClosedRange<UInt16> = 39_500...39_600
        var opened: (ListenSocket, UInt16)?
        for port in ports where opened == nil {
            if let socket = try? ListenSocket.open(.tcp(host: "127.0.0.1", port: port)) { opened = (socket, port) }
        }
        let (first, port) = try #require(opened)
        defer { first.close() }
        #expect(throws: FastCGIError.self) { try ListenSocket.open(.tcp(host: "127.0.0.1", port: port)) }
    }
}
