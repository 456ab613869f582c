@testable import Auth
import Glibc
import Posix
import Logging
@testable import S3Protocol
@testable import Storage
import Testing
@testable import X2S3Core

/// Manual measurement (not a pass/fail test): microseconds per `Dispatcher.handle` of a 16 KiB
/// GET with the params nginx sends, from a public bucket and from the same directory as a
/// private bucket, header-signed and presigned. The gap between the rows is what a signature
/// costs the worker. Run with `X2S3_BENCH=1 swift test -c release -Xswiftc -enable-testing
/// --filter DispatchBenchmark`.
@Suite(.serialized, .enabled(if: getenv("X2S3_BENCH") != nil, "set X2S3_BENCH=1 to measure"))
final class DispatchBenchmark {
    static let calls = 20_000
    static let rounds = 15
    let tree = TempTree().file("small-16k.bin", size: 16384)
    static let now = HTTPDate.epoch(year: 2026, month: 1, day: 2, hour: 3, minute: 4, second: 5)

    func dispatcher() -> Dispatcher {
        var c = Config()
        c.targets = [Target(name: "pub", kind: .file(FileOptions(path: tree.path))),
                     Target(name: "priv", isPrivate: true, kind: .file(FileOptions(path: tree.path)))]
        c.credentials = [Credential(accessKey: "AKBENCH", secretKey: "bench-secret", buckets: ["priv"])]
        var d = Dispatcher(config: c, logger: Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() }))
        d.fixedNow = Self.now
        return d
    }

    /// Every param nginx's fastcgi_params.x2s3 sends for a plain GET.
    func nginxParams(_ uri: String) -> [String: String] {
        return ["REQUEST_METHOD": "GET", "CONTENT_TYPE": "", "CONTENT_LENGTH": "",
                "REQUEST_URI": uri, "REQUEST_SCHEME": "http", "SERVER_PROTOCOL": "HTTP/1.1",
                "GATEWAY_INTERFACE": "CGI/1.1", "REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": "51234",
                "SERVER_ADDR": "127.0.0.1", "SERVER_PORT": "8080", "SERVER_NAME": "localhost",
                "HTTP_HOST": "127.0.0.1:8080", "HTTP_ACCEPT": "*/*", "HTTP_USER_AGENT": "bench/1.0",
                "X2S3_QUEUED_AT": "\(time(nil)).000"]
    }

    func measure(_ name: String, _ p: [String: String]) {
        var d = dispatcher()
        var sink = RecordingSink()
        d.handle(params: p, sink: &sink)
        #expect(sink.status == 200 && sink.parsed.body.count == 16384)
        if sink.status != 200 { print(name, sink.status, sink.bodyText) }
        let us = Self.bestMicroseconds {
            var s = CountingSink()
            d.handle(params: p, sink: &s)
        }
        print("DispatchBenchmark \(name): \((us * 100).rounded() / 100) µs per request")
    }

    /// µs per call of `body`: the best of several rounds, as the machine's other work only
    /// ever adds time.
    static func bestMicroseconds(calls: Int = calls, _ body: () -> Void) -> Double {
        var us = Double.infinity
        for _ in 0..<rounds {
            let elapsed = ContinuousClock().measure { for _ in 0..<calls { body() } }
            us = min(us, (Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12) / Double(calls))
        }
        return us
    }

    @Test func publicBucket() { measure("public", nginxParams("/pub/small-16k.bin")) }

    func signedParams(_ path: String) -> [String: String] {
        let s = SigV4(credentials: .init(accessKey: "AKBENCH", secretKey: "bench-secret"), region: "us-east-1")
            .sign(method: "GET", host: "127.0.0.1:8080", path: path, query: [], date: Self.now)
        var p = nginxParams(path)
        for (name, value) in s.headers where name != "Host" {
            p["HTTP_" + String(name.uppercased().map { $0 == "-" ? "_" : $0 })] = value
        }
        return p
    }

    @Test func headerSigned() { measure("header-signed", signedParams("/priv/small-16k.bin")) }

    /// The signature check alone, as the dispatcher runs it (request parsed once, outside).
    @Test func verifyOnly() throws {
        for (name, p) in [("header-signed", signedParams("/priv/small-16k.bin")), ("presigned", presignedParams())] {
            var d = dispatcher()
            let request = try S3Request.parse(params: p)
            let us = Self.bestMicroseconds { _ = try? d.verifySignature(request, params: p) { p } }
            print("DispatchBenchmark verify only, \(name): \((us * 100).rounded() / 100) µs")
        }
    }

    /// The same headers on a public bucket, which never checks them: what carrying them costs.
    @Test func publicWithSigningHeaders() { measure("public, signing headers ignored", signedParams("/pub/small-16k.bin")) }

    /// The query of a presigned URL for the private bucket's object.
    func presignedQuery() -> String {
        let uri = presignedParams()["REQUEST_URI"] ?? ""
        return uri.firstIndex(of: "?").map { String(uri[uri.index(after: $0)...]) } ?? ""
    }

    func presignedParams() -> [String: String] {
        let url = Presigner.objectURL(base: BaseURL(scheme: "http", host: "127.0.0.1", port: 8080, path: "/"),
                                      bucket: "priv", key: "small-16k.bin",
                                      credential: Credential(accessKey: "AKBENCH", secretKey: "bench-secret", buckets: nil),
                                      now: Self.now, expires: 604_800)
        return nginxParams(String(url.dropFirst("http://127.0.0.1:8080".count)))
    }

    @Test func presigned() { measure("presigned", presignedParams()) }

    /// The same requests with the core's private caches evicted before each one, as a worker's
    /// own I/O and the processes sharing its core leave them in the server, where the check
    /// cost several times the hot loop's figure: the eviction's own time is measured alone and
    /// taken off.
    @Test func coldCaches() throws {
        let junk = UnsafeMutableRawBufferPointer.allocate(byteCount: 2 << 20, alignment: 64)
        defer { junk.deallocate() }
        var tick: UInt8 = 0
        let evict = {
            tick &+= 1
            for i in stride(from: 0, to: junk.count, by: 64) { junk[i] = tick }
        }
        let cold = { (body: () -> Void) in Self.bestMicroseconds(calls: 2_000) { evict(); body() } }
        let base = cold {}
        // X2S3_BENCH_ONLY names one row: a profile of the run then shows that row's cost alone.
        let chosen = getenv("X2S3_BENCH_ONLY").map { String(cString: $0) }
        let only = { (name: String) in chosen == nil || chosen == name }
        for (name, p) in [("public", nginxParams("/pub/small-16k.bin")),
                          ("public, signing headers ignored", signedParams("/pub/small-16k.bin")),
                          ("header-signed", signedParams("/priv/small-16k.bin")),
                          ("public, presigned query ignored", nginxParams("/pub/small-16k.bin?" + presignedQuery())),
                          ("presigned", presignedParams())] where only(name) {
            var d = dispatcher()
            let us = cold {
                var s = CountingSink()
                d.handle(params: p, sink: &s)
            }
            print("DispatchBenchmark cold \(name): \(((us - base) * 100).rounded() / 100) µs per request")
        }
        for (name, p) in [("header-signed", signedParams("/priv/small-16k.bin")), ("presigned", presignedParams())]
            where only("verify only, " + name) {
            var d = dispatcher()
            let request = try S3Request.parse(params: p)
            let us = cold { _ = try? d.verifySignature(request, params: p) { p } }
            print("DispatchBenchmark cold verify only, \(name): \(((us - base) * 100).rounded() / 100) µs")
        }
        print("DispatchBenchmark cold: eviction alone \((base * 100).rounded() / 100) µs")
    }

    /// The presigned query on a public bucket, which ignores it: what parsing and routing it costs.
    @Test func publicWithPresignedQuery() {
        measure("public, presigned query ignored", nginxParams("/pub/small-16k.bin?" + presignedQuery()))
    }
}

/// Counts bytes and keeps none: the benchmark measures the dispatcher, not a copy.
struct CountingSink: ResponseSink {
    var count = 0
    mutating func write(_ b: UnsafeRawBufferPointer) throws { count += b.count }
    mutating func flush() throws {}
    mutating func willTakeLong() {}
    mutating func sendFile(_ file: FileDescriptor, range: Range<UInt64>) throws -> Bool { false }
}
