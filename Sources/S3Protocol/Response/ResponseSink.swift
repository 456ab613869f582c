public import Posix

/// Where response bytes go: the FastCGI stdout stream in the worker, a recorder in tests.
public protocol ResponseSink {
    /// Writes all of `bytes`, or throws (`SinkError.clientGone` when the client went away).
    mutating func write(_ bytes: UnsafeRawBufferPointer) throws
    /// Pushes buffered bytes out to the peer.
    mutating func flush() throws

    /// Called before work that may take long (a large body, an upstream call, a listing): a sink
    /// holding resources that other requests could be queued on lets them go.
    mutating func willTakeLong()

    /// Sends `range` of the open regular `file` (lent for the call) without copying it through
    /// this process, if the sink can; returns false (nothing sent) when it cannot, and the
    /// caller copies. Throws `SinkError.clientGone` when the peer is gone, anything else when
    /// the file fails.
    mutating func sendFile(_ file: FileDescriptor, range: Range<UInt64>) throws -> Bool
}

/// Why a sink stopped taking bytes.
public enum SinkError: Error, Sendable {
    /// The peer (nginx, or the HTTP client behind it) closed the stream; stop writing.
    case clientGone
    /// An in-memory sink holds no more: the body is larger than its limit (`CollectingSink`).
    case limitExceeded
}
