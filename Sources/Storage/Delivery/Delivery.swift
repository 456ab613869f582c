package import Posix
package import S3Protocol

/// How an object's bytes reach the client. Chosen once per object response, from what the body
/// is (`ObjectBody.localFile`: a local file, and whether a symlink-free path names it) and what
/// the request allows; the dispatcher only carries out the choice.
package enum Delivery {
    /// HEAD: the head alone.
    case headOnly
    /// nginx sends the file (offload mode): the head gains `X-Accel-Redirect` to this URI and
    /// the worker sends no body (`Offload`).
    case offload(redirect: String)
    /// The sink moves the file's pages to the peer itself (splice); the body is copied through
    /// the writer only when the sink cannot.
    case splice(FileDescriptor)
    /// The body streams its bytes through the writer (pread and write, or upstream chunks).
    case stream

    /// Bodies from this size on are offered to the sink's `sendFile`: smaller ones are cheaper
    /// as one read and one write.
    static let spliceThreshold: UInt64 = 256 << 10

    /// `range` is the resolved Range (nil: the whole object, or a Range header that was
    /// ignored); `wanted` the bytes the response carries.
    package static func choose(body: any ObjectBody, request: S3Request, range: Range<UInt64>?,
                       wanted: Range<UInt64>) -> Delivery {
        if request.method == "HEAD" { return .headOnly }
        guard let file = body.localFile else { return .stream }
        if let path = file.symlinkFreePath, let redirect = Offload.redirect(path: path, request: request, range: range) {
            return .offload(redirect: redirect)
        }
        return wanted.count >= spliceThreshold ? .splice(file.descriptor) : .stream
    }

    /// Sends `range` of `body` as chosen (nothing for `headOnly` and `offload`).
    package func send<S: ResponseSink>(_ body: any ObjectBody, _ range: Range<UInt64>, into writer: inout BodyWriter<S>) throws {
        switch self {
        case .headOnly, .offload:
            return
        case .splice(let file):
            if try writer.sendFile(file, range: range) { return }
            try body.stream(range, into: &writer)
        case .stream:
            try body.stream(range, into: &writer)
        }
    }
}

extension Delivery: Equatable {
    package static func == (a: Delivery, b: Delivery) -> Bool {
        switch (a, b) {
        case (.headOnly, .headOnly), (.stream, .stream): return true
        case (.offload(let x), .offload(let y)): return x == y
        case (.splice(let x), .splice(let y)): return x === y
        default: return false
        }
    }
}
