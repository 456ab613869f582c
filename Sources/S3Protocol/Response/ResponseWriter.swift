public import Posix

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
///
/// The writers are `@inlinable`: the dispatcher (another module) uses them with one concrete
/// sink, and only inlinable generic code is specialised for it there.
public struct ResponseWriter<S: ResponseSink>: ~Copyable {
    @usableFromInline var sink: S

    @inlinable public init(sink: S) { self.sink = sink }

    /// Serialises the CGI head (`Status:` line first; the only place it is written). Written
    /// into one buffer sized up front, because String and array appends dominate a small GET's CPU.
    @inlinable public consuming func writeHead(_ head: ResponseHead) -> BodyWriter<S> {
        let status = String(head.status), reason = HTTPStatus.reason(head.status)
        var capacity = "Status: ".utf8.count + status.utf8.count + 1 + reason.utf8.count + 4
        for (name, value) in head.headers { capacity += name.utf8.count + value.utf8.count + 4 }
        var w = BodyWriter(sink: sink)
        // SAFETY: capacity counts every byte appended below (CR and LF may only be dropped), and the head is
        //  written out before the buffer goes.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity) { buffer in
            var out = HeadBuffer(buffer)
            out.append("Status: ")
            out.append(status)
            out.append(" ")
            out.append(reason)
            out.append("\r\n")
            for i in head.headers.indices {  // by index: iterating copies every name and value
                out.append(head.headers[i].0)
                out.append(": ")
                out.append(head.headers[i].1, droppingLineBreaks: true)
                out.append("\r\n")
            }
            out.append("\r\n")
            try? w.write(UnsafeRawBufferPointer(UnsafeMutableBufferPointer(rebasing: buffer[..<out.count])))
        }
        w.byteCount = 0  // the head is not body (logs, x2s3_response_bytes_total)
        return w
    }
}

/// The bytes of a head, in a buffer `writeHead` sized for them.
@usableFromInline struct HeadBuffer {
    // SAFETY: lent by writeHead's temporary allocation, sized for the whole head; the value never leaves
    //  writeHead.
    @usableFromInline let buffer: UnsafeMutableBufferPointer<UInt8>
    @usableFromInline var count = 0

    @inlinable init(_ buffer: UnsafeMutableBufferPointer<UInt8>) { self.buffer = buffer }

    /// Appends `text`; with `droppingLineBreaks`, without its CR and LF bytes (a header value
    /// can never carry a line break: response splitting).
    @inlinable mutating func append(_ text: String, droppingLineBreaks: Bool = false) {
        // Native strings are contiguous (no copy of the String to get at its bytes).
        let copied: Void? = text.utf8.withContiguousStorageIfAvailable { bytes in
            if droppingLineBreaks, Self.hasLineBreak(bytes) {
                append(filtering: bytes)
            } else {
                // SAFETY: writeHead sized the buffer for every byte appended.
                count += UnsafeMutableBufferPointer(rebasing: buffer[count...]).initialize(from: bytes).1
            }
        }
        if copied == nil { append(filtering: Array(text.utf8)) }
    }

    @inlinable mutating func append<C: Collection<UInt8>>(filtering bytes: C) {
        for b in bytes where b != UInt8(ascii: "\r") && b != UInt8(ascii: "\n") {
            buffer[count] = b
            count += 1
        }
    }

    @inlinable static func hasLineBreak(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        bytes.contains { $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\n") }
    }
}

/// Writes body bytes after the head. A sink failure is remembered: later writes are no-ops
/// and `failed` tells the caller to stop producing bytes.
public struct BodyWriter<S: ResponseSink>: ~Copyable {
    @usableFromInline var sink: S
    @usableFromInline var failure: SinkError?
    @usableFromInline var byteCount: UInt64 = 0

    /// Set once the sink has thrown; the rest of the response is dropped.
    @inlinable public var failed: SinkError? { failure }
    /// Body bytes accepted so far (for logs).
    @inlinable public var bytesWritten: UInt64 { byteCount }

    @inlinable package init(sink: S) { self.sink = sink }

    /// Writes raw bytes; throws the sink's `SinkError` (`clientGone` for any other error) once
    /// the sink has stopped taking them.
    @inlinable public mutating func write(_ bytes: UnsafeRawBufferPointer) throws(SinkError) {
        if let failure { throw failure }
        do {
            try sink.write(bytes)
            byteCount += UInt64(bytes.count)
        } catch {
            let reason = error as? SinkError ?? .clientGone
            failure = reason
            throw reason
        }
    }

    /// Sends part of an open file through the sink's zero-copy path; false when it has none.
    /// A failure of the file (not the peer) is rethrown and cuts the stream.
    @inlinable public mutating func sendFile(_ file: FileDescriptor, range: Range<UInt64>) throws -> Bool {
        if let failure { throw failure }
        do {
            guard try sink.sendFile(file, range: range) else { return false }
            byteCount += UInt64(range.count)
            return true
        } catch SinkError.clientGone {
            failure = .clientGone
            throw SinkError.clientGone
        }
    }

    /// Writes a complete in-memory body.
    @inlinable public mutating func write(_ bytes: [UInt8]) {
        // SAFETY: the sink reads the bytes during the call.
        bytes.withUnsafeBytes { try? write($0) }
    }

    /// Flushes and ends the response, handing back the sink.
    @inlinable public consuming func finish() -> S {
        if failure == nil { try? sink.flush() }
        return sink
    }
}

/// Reason phrases: some clients reject a bare `HTTP/1.1 200` (docs/platform.md#status-needs-a-reason-phrase).
public enum HTTPStatus {
    public static func reason(_ status: Int) -> String {
        knownReason(status) ?? "Status"
    }

    /// The standard phrase of a status x2s3 answers with; nil for any other.
    public static func knownReason(_ status: Int) -> String? {
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
        default: return nil
        }
    }
}
