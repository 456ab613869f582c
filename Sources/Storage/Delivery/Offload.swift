package import S3Protocol

/// Offload mode: for a file target with `offload: true`, the worker does everything it does for a
/// GET (resolve, stat, ETag, conditionals, range validation) and then, instead of streaming the
/// bytes, answers with the same headers plus `X-Accel-Redirect: <prefix><absolute path>` and no
/// body. nginx re-opens the file in its internal location (`nginx/offload.conf`) and sends it
/// with sendfile; the worker is free at once.
///
/// Only when nginx announces the internal location with the `X2S3_OFFLOAD` FastCGI param (a
/// client cannot forge it: request headers arrive as `HTTP_*`). Plain CGI never offloads.
///
/// Only outcomes nginx reproduces exactly are offloaded; the rest stream as usual:
/// - GET only (HEAD needs no bytes and stays here).
/// - No `If-Match`: nginx's own precondition check runs before the restored ETag is set and
///   would answer 412 where the worker said 200.
/// - A `Range` header only when the worker resolved it to one range (206): nginx applies the
///   client's Range itself, so a Range the worker ignored (malformed, multi-range, a failed
///   If-Range) could come out differently (nginx answers 416 to some S3 ignores).
/// - Only keys whose resolution involves no symlink (openat2 `RESOLVE_NO_SYMLINKS`), and the
///   internal location has `disable_symlinks on`: a symlink swapped in between the worker's
///   check and nginx's open is refused by nginx instead of followed out of the bucket.
package enum Offload {
    /// The `X-Accel-Redirect` URI for the symlink-free file at absolute `path`, or nil when this
    /// response must be streamed by the worker (the rules above; `Delivery.choose` asks).
    static func redirect(path: String, request: S3Request, range: Range<UInt64>?) -> String? {
        guard request.method == "GET",
              let prefix = request.header("x2s3-offload"), isValidPrefix(prefix),
              request.header("if-match") == nil
        else { return nil }
        if request.header("range") != nil, range == nil { return nil }
        // The path is absolute: "/.x2s3-offload/" + "/srv/x" must not become "//srv/x".
        let base = prefix.hasSuffix("/") ? prefix.dropLast() : Substring(prefix)
        return base + percentEncodePath(path)
    }

    /// The head to send instead of the body: `head` plus `X-Accel-Redirect`.
    package static func head(_ head: ResponseHead, redirect: String, range: Range<UInt64>?) -> ResponseHead {
        var out = head
        // nginx copies the upstream Accept-Ranges across the redirect and adds its own to a 200
        // (not to a 206): drop ours there, or the client would get it twice.
        if range == nil { out.headers.removeAll { $0.0 == "Accept-Ranges" } }
        out.add("X-Accel-Redirect", redirect)
        return out
    }

    /// An internal location path: absolute, no bytes that could split a header or a URI.
    static func isValidPrefix(_ prefix: String) -> Bool {
        prefix.hasPrefix("/") && !prefix.utf8.contains { $0 <= 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "%") }
    }

    /// Every byte outside RFC 3986 unreserved and `/` as `%XX` (nginx decodes the redirect URI
    /// once; `?` would otherwise start arguments and `%` an escape).
    static func percentEncodePath(_ path: String) -> String {
        URLEncoding.uriEncode(path, encodeSlash: false)
    }
}
