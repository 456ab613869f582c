import HTTPClient
import S3Protocol
import WorkerPool

/// An upstream GET whose head has arrived and whose body is still on the wire. `stream`
/// continues the transfer, writing each received chunk straight to the client; releasing the
/// body unstreamed (a 304, a 412, an error before the head went out) abandons the transfer.
final class S3ObjectBody: ObjectBody {
    let info: ObjectInfo
    let available: Range<UInt64>
    /// The pending transfer; taken by the first `stream`.
    private var response: HTTPResponse?
    /// The bytes arrive from the network: they can only be streamed.
    var localFile: LocalFile? { nil }

    init(info: ObjectInfo, available: Range<UInt64>, response: HTTPResponse?) {
        self.info = info
        self.available = available
        self.response = response
    }

    /// Thrown by the consumer once it has every byte it needs of a longer upstream body (an
    /// upstream that ignored the Range header), to stop the transfer.
    private struct Enough: Error {}

    func stream<S: ResponseSink>(_ range: Range<UInt64>, into writer: inout BodyWriter<S>) throws {
        guard let response else {
            if range.isEmpty { return }
            throw S3Error.internalError("upstream body already consumed")
        }
        self.response = nil
        var position = available.lowerBound
        // Stopping early closes the connection, so only stop when the upstream would send
        // more than wanted; a body ending exactly at the range end is left to finish cleanly
        // and its connection is reused.
        let stopEarly = range.upperBound < available.upperBound
        do {
            try response.readBody { chunk in
                let start = position
                let end = start + UInt64(chunk.count)
                position = end
                let lo = max(start, range.lowerBound), hi = min(end, range.upperBound)
                if lo < hi {
                    // SAFETY: chunk is valid for this callback; lo and hi are clamped to it above.
                    try writer.write(UnsafeRawBufferPointer(rebasing: chunk[Int(lo - start)..<Int(hi - start)]))
                }
                if stopEarly && end >= range.upperBound { throw Enough() }
            }
        } catch is Enough {
            return
        } catch let error as HTTPClientError {
            // Its cause goes on the log line of the cut and into x2s3_upstream_errors_total.
            throw S3Backend.map(error)
        }
        // libcurl already fails a body shorter than its Content-Length; this also covers an
        // upstream that closed early without announcing a length. Never pad: cut.
        if position < range.upperBound {
            throw S3Error.upstreamFailure(.badGateway("The upstream body ended early."), cause: .protocol,
                                          detail: "upstream: the body ended after \(position) of \(range.upperBound) bytes")
        }
    }
}
