// Fuzz targets for the request path: params → S3Request → Route, and the whole dispatcher
// (parse, route, a real file bucket, headers, ranges, conditionals, rendering) on a temp dir.
internal import Glibc
internal import Logging
internal import Posix
@testable internal import S3Protocol
@testable internal import Storage
@testable internal import X2S3Core

/// Input format, one item a line: the method, then REQUEST_URI, then `NAME=value` params
/// (e.g. `HTTP_RANGE=bytes=0-1`, `HTTP_HOST=data.example.org`). Invalid UTF-8 reaches the
/// parser as U+FFFD, as it would after libfcgi's params are copied into Swift strings.
func requestParams(_ bytes: [UInt8]) -> [String: String] {
    let ls = lines(bytes)
    var params: [String: String] = [:]
    if ls.count > 0 { params["REQUEST_METHOD"] = ls[0] }
    if ls.count > 1 { params["REQUEST_URI"] = ls[1] }
    for line in ls.dropFirst(2) {
        guard let eq = line.firstIndex(of: "=") else { continue }
        params[String(line[..<eq])] = String(line[line.index(after: eq)...])
    }
    return params
}

/// A config exercising every routing rule: virtual hosts, a hidden bucket, an S3 target.
let routingConfig: Config = {
    var c = Config()
    c.virtualBuckets = true
    c.baseURL = BaseURL(scheme: "https", host: "example.org", port: nil, path: "/")
    c.targets = [
        Target(name: "data", kind: .file(FileOptions(path: "/nonexistent-x2s3-fuzz"))),
        Target(name: "hidden", browseable: false, kind: .file(FileOptions(path: "/nonexistent-x2s3-fuzz"))),
        Target(name: "remote", kind: .s3(S3Options(bucket: "upstream"))),
    ]
    return c
}()

func fuzzRequest(_ bytes: [UInt8]) {
    let params = requestParams(bytes)
    let request: S3Request
    do {
        request = try S3Request.parse(params: params)
    } catch {
        let status = error.wire.status
        require((400..<500).contains(status), "parse failed with \(status) \(error)")
        return
    }
    require(!request.path.utf8.contains(0), "a NUL byte survived into the path")
    require(request.rawPath.utf8.count <= S3Request.maxURILength, "an overlong URI was accepted")
    let routed = Router.route(request, config: routingConfig)
    switch routed.route {
    case .error(let e):
        require(e.wire.status != 500, "the router produced a 500: \(e)")
    case .object(_, _, let key):
        require(!key.isEmpty, "an object route with an empty key")
    case .listObjects(_, _, let q):
        require((0...1000).contains(q.maxKeys), "max-keys \(q.maxKeys) escaped 0...1000")
    default:
        break
    }
}

/// The dispatcher's fixture bucket: a few files, a subdirectory, a symlink leading out.
/// Made once per process; the dispatcher keeps its backend (and root fd) across inputs.
final class DispatchFixture {
    var dispatcher: Dispatcher

    init() {
        var template = Array("/tmp/x2s3-fuzz-XXXXXX".utf8CString)
        let root = template.withUnsafeMutableBufferPointer { buf -> String in
            guard let p = mkdtemp(buf.baseAddress!) else { fatalError("mkdtemp failed") }
            return String(cString: p)
        }
        func write(_ name: String, _ text: String) {
            let fd = open(root + "/" + name, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            precondition(fd >= 0, "cannot create fixture \(name)")
            _ = text.withCString { Glibc.write(fd, $0, strlen($0)) }
            close(fd)
        }
        mkdir(root + "/dir", 0o755)
        write("hello.txt", "Hello, x2s3!\n")
        write("empty.bin", "")
        write("dir/a b.txt", "a b\n")
        _ = symlink("/etc/passwd", root + "/out")
        var config = routingConfig
        config.targets[0] = Target(name: "data", kind: .file(FileOptions(path: root)))
        dispatcher = Dispatcher(config: config, logger: Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() }))
    }
}

/// Records the response; fails like a client that hung up after `limit` bytes, if set.
struct CollectingSink: ResponseSink {
    var bytes: [UInt8] = []
    mutating func write(_ b: UnsafeRawBufferPointer) throws { bytes.append(contentsOf: b) }
    mutating func flush() throws {}
    mutating func willTakeLong() {}
    /// Large files are copied like the rest, so the fuzzer sees every byte.
    mutating func sendFile(_ file: FileDescriptor, range: Range<UInt64>) throws -> Bool { false }
}

@MainActor let dispatchFixture = DispatchFixture()

@MainActor
func fuzzDispatch(_ bytes: [UInt8]) {
    var params = requestParams(bytes)
    // Never reach the network: the S3 target is routed but its bucket name is replaced.
    if let uri = params["REQUEST_URI"], uri.lowercased().contains("remote") { params["REQUEST_URI"] = "/data/hello.txt" }
    if let host = params["HTTP_HOST"], host.lowercased().contains("remote") { params["HTTP_HOST"] = "localhost" }
    var sink = CollectingSink()
    dispatchFixture.dispatcher.handle(params: params, sink: &sink)
    let head = String(decoding: sink.bytes.prefix(16), as: UTF8.self)
    require(head.hasPrefix("Status: "), "response does not start with a status: \(head)")
    let status = Int(head.dropFirst(8).prefix(3)) ?? 0
    require(status != 500, "the dispatcher answered 500")
    require(!sink.bytes.containsSubsequence(Array("root:x:0:0".utf8)), "/etc/passwd content was served")
}

extension Array where Element == UInt8 {
    func containsSubsequence(_ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, needle.count <= count else { return false }
        for i in 0...(count - needle.count) where self[i] == needle[0] && Array(self[i..<(i + needle.count)]) == needle {
            return true
        }
        return false
    }
}
