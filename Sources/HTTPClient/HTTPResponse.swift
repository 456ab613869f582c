/// A response whose head has arrived and whose body is still on the wire. Read the body at
/// most once (`readBody` or `readAll`); dropping the response unread abandons the transfer
/// and closes its connection, which is what a client that went away, or a 304, needs.
public final class HTTPResponse {
    /// The final HTTP status.
    public let status: Int
    /// Header fields in arrival order, names as sent.
    public let headers: [(name: String, value: String)]
    /// The one length every Content-Length field agrees on; nil when there is none.
    public let contentLength: UInt64?
    private let client: HTTPClient
    private let generation: Int

    init(client: HTTPClient, generation: Int, status: Int, headers: [(name: String, value: String)],
         contentLength: UInt64?) {
        self.client = client
        self.generation = generation
        self.status = status
        self.headers = headers
        self.contentLength = contentLength
    }

    deinit { client.cancel(generation: generation) }

    /// The first value of header `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        let l = name.lowercased()
        return headers.first { $0.name.lowercased() == l }?.value
    }

    /// The body length a head announces, by RFC 9112 §6.3: several Content-Length fields (or
    /// one holding a list) are usable only when every value is the same number, and a
    /// Content-Length beside a Transfer-Encoding is an error. libcurl 7.88 instead takes the
    /// last field (or the number a list starts with), so a contradictory head would read a
    /// body of one length under the size announced to the client from another: a
    /// complete-looking wrong body.
    static func contentLength(in headers: [(name: String, value: String)]) throws(HTTPClientError) -> UInt64? {
        var length: UInt64?
        var chunked = false
        for (name, value) in headers {
            if name.lowercased() == "transfer-encoding" { chunked = true }
            guard name.lowercased() == "content-length" else { continue }
            for item in value.split(separator: ",", omittingEmptySubsequences: false) {
                let text = item.trimmingCharacters(in: " \t")
                guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let n = UInt64(text) else {
                    throw .invalidResponse("the upstream sent an invalid Content-Length (\(value))")
                }
                if let length, length != n {
                    throw .invalidResponse("the upstream sent conflicting Content-Length values (\(length) and \(n))")
                }
                length = n
            }
        }
        if chunked && length != nil {
            throw .invalidResponse("the upstream sent both Content-Length and Transfer-Encoding")
        }
        return length
    }

    /// Streams the body: each chunk is handed to `consume` as libcurl receives it. If
    /// `consume` throws, the transfer stops and that error is rethrown; a transfer that
    /// fails (timeout, reset, truncated body) throws an `HTTPClientError`.
    public func readBody(_ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        try client.readBody(generation: generation, consume)
    }

    /// Reads a small body (an XML error or listing) into memory. Bytes past `limit` are
    /// received and dropped, so the connection stays reusable without unbounded memory.
    public func readAll(limit: Int) throws(HTTPClientError) -> [UInt8] {
        var out: [UInt8] = []
        do {
            try readBody { chunk in
                let room = limit - out.count
                if room > 0 { out.append(contentsOf: chunk.prefix(room)) }
            }
        } catch let e as HTTPClientError {
            throw e
        } catch {
            throw .transport("\(error)")
        }
        return out
    }

    /// Abandons the transfer now (closing its connection) instead of at deinit.
    public func cancel() { client.cancel(generation: generation) }
}
