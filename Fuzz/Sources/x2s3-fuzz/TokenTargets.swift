// Fuzz targets for continuation tokens: forged tokens are refused, never trusted or trapped on.
@testable internal import X2S3Core

/// Input: a client-supplied token (lines: token, prefix, delimiter). Properties: the
/// base64url decoder accepts only canonical text; a wrapped (non-empty) token unwraps to itself and
/// only for the same bucket, prefix and delimiter.
func fuzzToken(_ bytes: [UInt8]) {
    let ls = lines(bytes)
    let token = ls.first ?? ""
    let prefix = ls.count > 1 ? ls[1] : ""
    let delimiter = ls.count > 2 ? ls[2] : nil
    if let raw = UpstreamToken.unbase64url(token) {
        require(UpstreamToken.base64url(raw) == token, "non-canonical base64url accepted: \(token)")
    }
    _ = try? UpstreamToken.unwrap(token, bucket: "data", prefix: prefix, delimiter: delimiter)

    // The backend never wraps an empty upstream token (a truncated page without one is a 502).
    guard !token.isEmpty else { return }
    let wrapped = UpstreamToken.wrap(token, bucket: "data", prefix: prefix, delimiter: delimiter)
    let back = try? UpstreamToken.unwrap(wrapped, bucket: "data", prefix: prefix, delimiter: delimiter)
    require(back == token, "a wrapped token does not unwrap to itself")
    let foreign = try? UpstreamToken.unwrap(wrapped, bucket: "other", prefix: prefix, delimiter: delimiter)
    require(foreign == nil, "a token for one bucket was accepted for another")
}
