import Escaping

/// The request URI as the worker's log keeps it. A presigned URL's `X-Amz-Signature` and a
/// capability link's token are bearer credentials until they expire: anyone who reads them in a
/// log can use them, so they become `REDACTED`. Who used them stays in the line (`user.name`,
/// the access key); so does everything else in the URI. nginx's access log does the same
/// (maps.conf, `$x2s3_log_request`). Both match the forms `x2s3 presign` and the SDKs print:
/// the name written `X-Amz-Signature`, the token right after the path's first `/_x2s3/c/`
/// (anywhere: behind a `base_url` with a path the links start with that path).
enum LoggedURI {
    static let redacted = "REDACTED"

    static func of(_ uri: String) -> String {
        var uri = uri
        // SAFETY: the bytes are lent for the scan only; the ranges come from scanning them.
        let cleaned = uri.withUTF8 { b -> String? in
            var secrets: [Range<Int>] = []
            let pathEnd = Bytes.firstIndex(of: UInt8(ascii: "?"), in: b, from: 0, to: b.count)
            if let start = Self.capabilityToken(in: UnsafeBufferPointer(rebasing: b[..<pathEnd])) {
                let end = Bytes.firstIndex(of: UInt8(ascii: "/"), in: b, from: start, to: pathEnd)
                if end > start { secrets.append(start..<end) }
            }
            if pathEnd < b.count {
                let q = pathEnd
                let query = UnsafeBufferPointer(rebasing: b[(q + 1)...])
                RawQuery.forEachItem(in: query) { name, value in
                    if let value, !value.isEmpty, Bytes.equal(UnsafeBufferPointer(rebasing: query[name]), "X-Amz-Signature") {
                        secrets.append((q + 1 + value.lowerBound)..<(q + 1 + value.upperBound))
                    }
                    return true
                }
            }
            guard !secrets.isEmpty else { return nil }
            var out: [UInt8] = []
            out.reserveCapacity(b.count)
            var at = 0
            for secret in secrets {
                out += b[at..<secret.lowerBound]
                out += redacted.utf8
                at = secret.upperBound
            }
            out += b[at...]
            return String(decoding: out, as: UTF8.self)
        }
        return cleaned ?? uri
    }

    /// Where the token after the first `/_x2s3/c/` of `path` starts.
    private static func capabilityToken(in path: UnsafeBufferPointer<UInt8>) -> Int? {
        let prefix = Router.capabilityPrefix.utf8
        guard path.count > prefix.count else { return nil }
        var slash = Bytes.firstIndex(of: UInt8(ascii: "/"), in: path, from: 0, to: path.count)
        while slash + prefix.count <= path.count {
            // SAFETY: slash + prefix.count <= path.count, so the rebased view is in bounds.
            if path[slash + 1] == UInt8(ascii: "_"),
               UnsafeBufferPointer(rebasing: path[slash..<(slash + prefix.count)]).elementsEqual(prefix) { return slash + prefix.count }
            slash = Bytes.firstIndex(of: UInt8(ascii: "/"), in: path, from: slash + 1, to: path.count)
        }
        return nil
    }
}
