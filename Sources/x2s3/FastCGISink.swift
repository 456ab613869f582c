import FastCGI
import Posix
import WorkerPool
import S3Protocol
import X2S3Core

/// The worker's `ResponseSink`: the request's FastCGI stdout. A wrapper struct rather than a
/// retroactive conformance of `FastCGIOutput`, so neither module has to know the other.
struct FastCGISink: ResponseSink {
    var output: FastCGIOutput
    /// The worker's scoreboard row, told of every chunk that goes out: the pool leader replaces
    /// a worker whose row stops moving during a request.
    var row: WorkerRow?

    /// Throws `SinkError.clientGone` when libfcgi reports the peer gone (the only way it fails).
    mutating func write(_ bytes: UnsafeRawBufferPointer) throws {
        row?.bump()
        do { try output.write(bytes) } catch { throw SinkError.clientGone }
    }

    /// Sends libfcgi's buffered bytes now; `SinkError.clientGone` when the peer is gone.
    mutating func flush() throws {
        do { try output.flush() } catch { throw SinkError.clientGone }
    }

    /// Splices the file to the connection; false when this connection cannot (the caller copies).
    /// Sent in pieces, so the scoreboard sees the response move while a slow reader drains it.
    mutating func sendFile(_ file: FileDescriptor, range: Range<UInt64>) throws -> Bool {
        var offset = range.lowerBound
        while offset < range.upperBound {
            row?.bump()
            let count = min(Self.spliceStep, range.upperBound - offset)
            let sent: Bool
            do {
                sent = try output.sendFile(file, offset: offset, count: count)
            } catch .clientGone {
                throw SinkError.clientGone
            }
            if !sent {
                // Only the first piece can find splice unsupported; after it, bytes are out.
                guard offset == range.lowerBound else { throw SinkError.clientGone }
                return false
            }
            offset += count
        }
        return true
    }

    /// Bytes spliced between two progress marks.
    static let spliceStep: UInt64 = 256 << 10

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

    /// A CGI process serves one request and holds nothing else.
    mutating func willTakeLong() {}
    /// stdout may be anything (a pipe, a terminal): the body is copied.
    mutating func sendFile(_ file: FileDescriptor, range: Range<UInt64>) throws -> Bool { false }
}
