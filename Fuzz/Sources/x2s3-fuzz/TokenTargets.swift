// Fuzz targets for continuation tokens: forged tokens are refused, never trusted or trapped on.
@testable internal import S3Protocol
@testable internal import Storage
@testable internal import X2S3Core

/// Input: a client-supplied token (lines: token, prefix, delimiter). Properties: the
/// base64url decoder accepts only canonical text; a wrapped (non-empty) token unwraps to itself and
/// only for the same bucket, prefix and delimiter.
func fuzzToken(_ bytes: [UInt8]) {
    let ls = lines(bytes)
    let token = ls.first ?? ""
    let prefix = ls.count > 1 ? ls[1] : ""
    let delimiter = ls.count > 2 ? ls[2] : nil
    fuzzListingToken(token, prefix: prefix, delimiter: delimiter)
    _ = try? UpstreamToken.unwrap(token, bucket: "data", prefix: prefix, delimiter: delimiter)

    // The backend never wraps an empty upstream token (a truncated page without one is a 502).
    guard !token.isEmpty else { return }
    let wrapped = UpstreamToken.wrap(token, bucket: "data", prefix: prefix, delimiter: delimiter)
    let back = try? UpstreamToken.unwrap(wrapped, bucket: "data", prefix: prefix, delimiter: delimiter)
    require(back == token, "a wrapped token does not unwrap to itself")
    let foreign = try? UpstreamToken.unwrap(wrapped, bucket: "other", prefix: prefix, delimiter: delimiter)
    require(foreign == nil, "a token for one bucket was accepted for another")
}

/// The file listing's own tokens (ContinuationToken): a forged one is refused, never trusted;
/// a made one resumes at its position, and only in its own bucket, prefix and delimiter.
/// Run as part of the `token` target.
func fuzzListingToken(_ token: String, prefix: String, delimiter: String?) {
    _ = try? ContinuationToken.position(of: token, bucket: "data", prefix: prefix, delimiter: delimiter)
    let position = Array(token.utf8)
    let made = ContinuationToken.make(position: position, bucket: "data", prefix: prefix, delimiter: delimiter)
    let back = try? ContinuationToken.position(of: made, bucket: "data", prefix: prefix, delimiter: delimiter)
    require(back == position, "a listing token does not resume at its own position")
    let moved = try? ContinuationToken.position(of: made, bucket: "data", prefix: prefix + "x", delimiter: delimiter)
    require(moved == nil, "a listing token was accepted for another prefix")
    if let raw = Base64URL.decode(token) {
        require(Base64URL.decode(Base64URL.encode(raw)) == raw, "base64url does not round-trip")
    }
}
