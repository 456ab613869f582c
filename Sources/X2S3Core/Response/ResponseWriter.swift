/// The head of a response: status and headers in the order they are sent.
public struct ResponseHead: Sendable, Equatable {
    public var status: Int
    public var headers: [(String, String)]

    public init(status: Int, headers: [(String, String)] = []) {
        self.status = status
        self.headers = headers
    }

    public mutating func add(_ name: String, _ value: String) { headers.append((name, value)) }

    /// The first value of `name` (case-insensitive).
    public func value(of name: String) -> String? {
        let l = name.lowercased()
        return headers.first { $0.0.lowercased() == l }?.1
    }

    public static func == (a: ResponseHead, b: ResponseHead) -> Bool {
        a.status == b.status && a.headers.elementsEqual(b.headers, by: { $0 == $1 })
    }
}

/// Owns the wire for one response. The head can be written exactly once, and the body only
/// after it: `writeHead` consumes the writer and hands back the only `BodyWriter`.
public struct ResponseWriter<S: ResponseSink>: ~Copyable {
    private var sink: S

    public init(sink: S) { self.sink = sink }

    /// Serialises the CGI head (`Status:` line first; the only place it is written). Built as
    /// bytes: String appends and a per-Character line-break check made this ~30% of a small
    /// GET's CPU (callgrind, docs/bench.md).
    public consuming func writeHead(_ head: ResponseHead) -> BodyWriter<S> {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(1024)
        func add(_ s: String) {
            var s = s
            s.withUTF8 { bytes.append(contentsOf: $0) }  // one memcpy per piece
        }
        add("Status: ")
        add(String(head.status))
        add(" ")
        add(HTTPStatus.reason(head.status))
        add("\r\n")
        for (name, value) in head.headers {
            add(name)
            add(": ")
            // A header value can never carry a line break (response splitting).
            var value = value
            value.withUTF8 { v in
                if v.contains(where: { $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\n") }) {
                    bytes.append(contentsOf: v.lazy.filter { $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\n") })
                } else {
                    bytes.append(contentsOf: v)
                }
            }
            add("\r\n")
        }
        add("\r\n")
        var w = BodyWriter(sink: sink)
        w.write(bytes)
        return w
    }
}

/// Writes body bytes after the head. A sink failure is remembered: later writes are no-ops
/// and `failed` tells the caller to stop producing bytes.
public struct BodyWriter<S: ResponseSink>: ~Copyable {
    var sink: S
    /// Set once the sink has thrown; the rest of the response is dropped.
    public private(set) var failed: SinkError?
    /// Body bytes accepted so far (for logs).
    public private(set) var bytesWritten: UInt64 = 0

    init(sink: S) { self.sink = sink }

    /// Writes raw bytes; throws `SinkError.clientGone` once the client has gone.
    public mutating func write(_ bytes: UnsafeRawBufferPointer) throws(SinkError) {
        if let failed { throw failed }
        do {
            try sink.write(bytes)
            bytesWritten += UInt64(bytes.count)
        } catch {
            failed = .clientGone
            throw .clientGone
        }
    }

    /// Sends part of an open file through the sink's zero-copy path; false when it has none.
    /// A failure of the file (not the peer) is rethrown and cuts the stream.
    public mutating func sendFile(_ fd: Int32, range: Range<UInt64>) throws -> Bool {
        if let failed { throw failed }
        do {
            guard try sink.sendFile(fd, range: range) else { return false }
            bytesWritten += UInt64(range.count)
            return true
        } catch SinkError.clientGone {
            failed = .clientGone
            throw SinkError.clientGone
        }
    }

    mutating func writeString(_ s: String) {
        var s = s
        s.withUTF8 { try? write(UnsafeRawBufferPointer($0)) }
    }

    /// Writes a complete in-memory body.
    public mutating func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { try? write($0) }
    }

    /// Flushes and ends the response, handing back the sink.
    public consuming func finish() -> S {
        if failed == nil { try? sink.flush() }
        return sink
    }
}

/// Reason phrases: some clients reject a bare `HTTP/1.1 200` (platform notes).
public enum HTTPStatus {
    public static func reason(_ status: Int) -> String {
        switch status {
        case 200: return "OK"
        case 204: return "No Content"
        case 206: return "Partial Content"
        case 304: return "Not Modified"
        case 400: return "Bad Request"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 412: return "Precondition Failed"
        case 414: return "URI Too Long"
        case 416: return "Range Not Satisfiable"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        default: return "Status"
        }
    }
}
