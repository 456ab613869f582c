/// Where response bytes go: the FastCGI stdout stream in the worker, a recorder in tests.
public protocol ResponseSink {
    /// Writes all of `bytes`, or throws (`SinkError.clientGone` when the client went away).
    mutating func write(_ bytes: UnsafeRawBufferPointer) throws
    /// Pushes buffered bytes out to the peer.
    mutating func flush() throws

    /// Called before work that may take long (a large body, an upstream call, a listing): a sink
    /// holding resources that other requests could be queued on lets them go.
    mutating func willTakeLong()
}

extension ResponseSink {
    public mutating func willTakeLong() {}
}

/// Why a sink stopped taking bytes.
public enum SinkError: Error, Sendable {
    /// The peer (nginx, or the HTTP client behind it) closed the stream; stop writing.
    case clientGone
}
