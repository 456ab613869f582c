/// A response whose head has arrived and whose body is still on the wire. Read the body at
/// most once (`readBody` or `readAll`); dropping the response unread abandons the transfer
/// and closes its connection, which is what a client that went away, or a 304, needs.
public final class HTTPResponse {
    /// The final HTTP status.
    public let status: Int
    /// Header fields in arrival order, names as sent.
    public let headers: [(name: String, value: String)]
    private let client: HTTPClient
    private let generation: Int

    init(client: HTTPClient, generation: Int, status: Int, headers: [(name: String, value: String)]) {
        self.client = client
        self.generation = generation
        self.status = status
        self.headers = headers
    }

    deinit { client.cancel(generation: generation) }

    /// The first value of header `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        let l = name.lowercased()
        return headers.first { $0.name.lowercased() == l }?.value
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
