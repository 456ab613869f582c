import FastCGI
import X2S3Core

/// The worker's `ResponseSink`: the request's FastCGI stdout. A wrapper struct rather than a
/// retroactive conformance of `FastCGIOutput`, so neither module has to know the other.
struct FastCGISink: ResponseSink {
    var output: FastCGIOutput

    /// Throws `SinkError.clientGone` when libfcgi reports the peer gone (the only way it fails).
    mutating func write(_ bytes: UnsafeRawBufferPointer) throws {
        do { try output.write(bytes) } catch { throw SinkError.clientGone }
    }

    /// Sends libfcgi's buffered bytes now; `SinkError.clientGone` when the peer is gone.
    mutating func flush() throws {
        do { try output.flush() } catch { throw SinkError.clientGone }
    }

    /// Splices the file to the connection; false when this connection cannot (the caller copies).
    mutating func sendFile(_ fd: Int32, range: Range<UInt64>) throws -> Bool {
        do {
            return try output.sendFile(fd, offset: range.lowerBound, count: UInt64(range.count))
        } catch .clientGone {
            throw SinkError.clientGone
        }
    }

    /// Closes the worker's idle kept connections, so no request queues behind a slow one, and
    /// lets this connection buffer more of what may be a long body.
    mutating func willTakeLong() {
        output.releaseIdleConnections()
        output.expectLongBody()
    }
}

/// The CGI mode's `ResponseSink`: stdout.
struct CGISink: ResponseSink {
    var output = CGIOutput()

    /// Throws `SinkError.clientGone` when stdout is closed (EPIPE).
    mutating func write(_ bytes: UnsafeRawBufferPointer) throws {
        do { try output.write(bytes) } catch { throw SinkError.clientGone }
    }

    /// Nothing is buffered; kept for the protocol.
    mutating func flush() throws {
        do { try output.flush() } catch { throw SinkError.clientGone }
    }
}
