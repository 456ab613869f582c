import FastCGI
import Testing

@Suite struct ListenAddressTests {
    @Test(arguments: [
        ("unix:/run/x2s3.sock", ListenAddress.unix(path: "/run/x2s3.sock")),
        ("unix:relative.sock", .unix(path: "relative.sock")),
        ("tcp:127.0.0.1:9000", .tcp(host: "127.0.0.1", port: 9000)),
        ("tcp:localhost:1", .tcp(host: "localhost", port: 1)),
        ("tcp:0.0.0.0:65535", .tcp(host: "0.0.0.0", port: 65535)),
        ("tcp:[::1]:9000", .tcp6(host: "::1", port: 9000)),
        ("tcp6:[::1]:9000", .tcp6(host: "::1", port: 9000)),
        ("tcp6:[fe80::1%lo]:80", .tcp6(host: "fe80::1%lo", port: 80)),
    ])
    func parsesSupportedForms(text: String, expected: ListenAddress) throws {
        #expect(try ListenAddress(parsing: text) == expected)
    }

    @Test(arguments: [
        "", "/run/x2s3.sock", "unix:", "udp:1.2.3.4:5", "tcp:", "tcp:127.0.0.1", "tcp:127.0.0.1:",
        "tcp::9000", "tcp:127.0.0.1:0", "tcp:127.0.0.1:65536", "tcp:127.0.0.1:+80", "tcp:127.0.0.1:9x",
        "tcp:::1:9000", "tcp:[::1:9000", "tcp:[]:9000", "tcp6:::1:9000", "tcp6:127.0.0.1:9000",
        "unix:/" + String(repeating: "a", count: 107),
    ])
    func rejectsMalformedAddresses(text: String) {
        #expect(throws: FastCGIError.self) { try ListenAddress(parsing: text) }
    }

    @Test func longestUnixPathFits() throws {
        let path = "/" + String(repeating: "a", count: 106)
        #expect(try ListenAddress(parsing: "unix:" + path) == .unix(path: path))
    }

    @Test(arguments: ["unix:/run/x.sock", "tcp:127.0.0.1:9000", "tcp6:[::1]:9000"])
    func descriptionRoundTrips(text: String) throws {
        #expect(try ListenAddress(parsing: text).description == text)
    }

    @Test func errorIsOneLineNamingTheInput() {
        let error = FastCGIError.badAddress("tcp:x", reason: "no port")
        #expect(!error.description.contains("\n"))
        #expect(error.description.contains("'tcp:x'"))
    }
}
