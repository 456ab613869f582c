import Posix
@testable import S3Protocol
@testable import X2S3Core

/// Collects everything written, like nginx would receive it.
struct RecordingSink: ResponseSink {
    var bytes: [UInt8] = []
    /// Fail after this many body bytes, to simulate a client that hangs up.
    var failAfter: Int? = nil

    mutating func write(_ b: UnsafeRawBufferPointer) throws {
        if let limit = failAfter, bytes.count + b.count > limit { throw SinkError.clientGone }
        bytes.append(contentsOf: b)
    }
    mutating func flush() throws {}
    mutating func willTakeLong() {}
    mutating func sendFile(_ file: FileDescriptor, range: Range<UInt64>) throws -> Bool { false }

    /// The parsed CGI response: status, headers (in order), body.
    var parsed: (status: Int, headers: [(String, String)], body: [UInt8]) {
        let sep: [UInt8] = Array("\r\n\r\n".utf8)
        var i = 0
        while i + 4 <= bytes.count && Array(bytes[i..<i + 4]) != sep { i += 1 }
        let head = String(decoding: bytes[0..<i], as: UTF8.self)
        let body = i + 4 <= bytes.count ? Array(bytes[(i + 4)...]) : []
        var status = 0
        var headers: [(String, String)] = []
        for line in head.split(separator: "\r\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = String(line[..<colon]), value = String(line[line.index(colon, offsetBy: 2)...])
            if name == "Status" { status = Int(value.prefix(3)) ?? 0 } else { headers.append((name, value)) }
        }
        return (status, headers, body)
    }

    func header(_ name: String) -> String? {
        parsed.headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }
    var status: Int { parsed.status }
    var bodyText: String { String(decoding: parsed.body, as: UTF8.self) }
}

/// An in-memory bucket for dispatcher tests.
final class MemoryBackend: StorageBackend {
    var objects: [String: [UInt8]]
    let mtime = Timestamp(seconds: 1_764_064_800)  // 2025-11-25T10:00:00Z
    init(_ objects: [String: [UInt8]]) { self.objects = objects }
    var creationDate: Int64? { nil }

    func head(_ key: String) throws(S3Error) -> ObjectInfo {
        guard let o = objects[key] else { throw .noSuchKey(key: key) }
        return ObjectInfo(size: UInt64(o.count), lastModified: mtime, etag: ObjectHeaders.cheapETag(size: UInt64(o.count), mtime: mtime))
    }
    func open(_ key: String, range: ByteRangeRequest?) throws(S3Error) -> any ObjectBody {
        let info = try head(key)
        return MemoryBody(bytes: objects[key] ?? [], info: info)
    }
    func list(_ query: ListQuery) throws(S3Error) -> ListPage {
        var page = ListPage()
        page.objects = objects.keys.sorted().filter { $0.hasPrefix(query.prefix) }.map {
            ListedObject(key: $0, size: UInt64(objects[$0]!.count), lastModified: mtime, etag: nil)
        }
        return page
    }
}

final class MemoryBody: ObjectBody {
    let bytes: [UInt8]
    let info: ObjectInfo
    var available: Range<UInt64> { 0..<UInt64(bytes.count) }
    var localFile: LocalFile? { nil }
    init(bytes: [UInt8], info: ObjectInfo) { self.bytes = bytes; self.info = info }
    func stream<S: ResponseSink>(_ range: Range<UInt64>, into writer: inout BodyWriter<S>) throws {
        try bytes[Int(range.lowerBound)..<Int(range.upperBound)].withUnsafeBytes { try writer.write($0) }
    }
}

func params(_ uri: String, method: String = "GET", headers: [String: String] = [:]) -> [String: String] {
    var p = ["REQUEST_METHOD": method, "REQUEST_URI": uri, "HTTP_HOST": "localhost:8080"]
    for (k, v) in headers { p[k] = v }
    return p
}

/// The one-line error that loading `yaml` (as `config.yaml`) gives, or nil when it loads.
func configFailure(_ yaml: String, env: [String: String] = [:]) -> String? {
    do {
        _ = try ConfigLoader.load(text: yaml, source: "config.yaml", environment: env)
        return nil
    } catch {
        return error.description
    }
}
