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

    mutating func flush() throws {
        do { try output.flush() } catch { throw SinkError.clientGone }
    }
}

/// The CGI mode's `ResponseSink`: stdout.
struct CGISink: ResponseSink {
    var output = CGIOutput()

    mutating func write(_ bytes: UnsafeRawBufferPointer) throws {
        do { try output.write(bytes) } catch { throw SinkError.clientGone }
    }

    mutating func flush() throws {
        do { try output.flush() } catch { throw SinkError.clientGone }
    }
}
