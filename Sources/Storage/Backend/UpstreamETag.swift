import S3Protocol

/// The ETag an S3 target sends, the same for GET, HEAD, 304s and listings (conditionals are
/// evaluated against it, so s3fs's `If-Match` on every ranged read matches what it was given).
///
/// With `proxy_etag` it is the upstream's own. Otherwise it is derived from it: some stores'
/// ETags look like MD5s without being one, and SDKs that verify bare 32-hex ETags would then
/// reject correct bytes. The derived tag hashes the upstream's opaque tag, so it is stable
/// across workers and restarts and changes exactly when the upstream's does, and it has the
/// multipart `"<hex>-N"` form that SDKs never check against content.
enum UpstreamETag {
    /// `upstream` is the ETag header or listing element as received (quoted, bare or weak);
    /// an upstream that sent none gets the cheap (Last-Modified, size) tag of file targets.
    static func validator(_ upstream: String?, proxy: Bool, size: UInt64, lastModified: Int64) -> String {
        let raw = upstream?.trimmingSpaces ?? ""
        let weak = raw.hasPrefix("W/")
        var opaque = Substring(raw).dropFirst(weak ? 2 : 0)
        if opaque.count >= 2, opaque.hasPrefix("\""), opaque.hasSuffix("\"") { opaque = opaque.dropFirst().dropLast() }
        guard !opaque.isEmpty else { return ObjectHeaders.cheapETag(size: size, mtime: Timestamp(seconds: lastModified)) }
        let mark = weak ? "W/" : ""
        if proxy { return mark + "\"" + opaque + "\"" }
        var md5 = MD5()
        md5.update(Array(("x2s3 upstream etag " + opaque).utf8))
        return mark + "\"" + MD5.hex(md5.finalize()) + "-1\""
    }
}
