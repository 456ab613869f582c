import Escaping
import S3Protocol

/// Which headers a request's signature names, read on bytes before anything is verified. A
/// worker copies only the params x2s3 reads, and the verifier reads the headers the request
/// parser kept; only a signature that names some other header needs every param (copying and
/// re-keying all of them cost a signed request several µs).
enum SignedParams {
    /// Where the signed header list is.
    enum Source {
        /// The `SignedHeaders` component of an Authorization header.
        case authorization(String)
        /// An `X-Amz-SignedHeaders` value, decoded: `host;x-amz-date`.
        case list(String)
    }

    /// The signed header list of a request as nginx passed it; nil when the request is unsigned
    /// or names no list (it then fails verification whatever its headers).
    static func source(_ params: [String: String]) -> Source? {
        if let authorization = params["HTTP_AUTHORIZATION"] { return .authorization(authorization) }
        guard var query = rawQuery(params), query.utf8.count >= 20 else { return nil }
        return query.withUTF8 { b in
            var found: Source?
            RawQuery.forEachItem(in: b) { name, value in
                // SAFETY: the ranges come from scanning b, so they are in bounds; b is valid for this call
                //  and the rebased views are only read here.
                guard Bytes.equal(UnsafeBufferPointer(rebasing: b[name]), "X-Amz-SignedHeaders") else { return true }
                let decoded = value.flatMap { PercentEncoding.decode(bytes: UnsafeBufferPointer(rebasing: b[$0]), plusIsSpace: true) }
                found = .list(decoded ?? "")
                return true  // the last one counts, as in the verifier
            }
            return found
        }
    }

    /// Whether every header the list names is one the request parser keeps. An unusual
    /// Authorization header (no list found) counts as naming others: every header is passed.
    static func namesOnlyReadHeaders(_ source: Source) -> Bool {
        switch source {
        case .authorization(var text):
            return text.withUTF8 { b in
                guard let range = fromAuthorization(b) else { return false }
                // SAFETY: the range was found by scanning b, so it is in bounds; the view is only read here.
                return onlyReadHeaders(UnsafeBufferPointer(rebasing: b[range]))
            }
        case .list(var text):
            return text.withUTF8 { onlyReadHeaders($0) }
        }
    }

    private static func onlyReadHeaders(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        var start = 0
        while start < b.count {
            var end = start
            while end < b.count && b[end] != UInt8(ascii: ";") { end += 1 }
            // SAFETY: start ≤ end ≤ b.count; the view is only read here.
            let name = UnsafeBufferPointer(rebasing: b[start..<end])
            if !name.isEmpty && !S3Request.readsHeader(name) { return false }
            start = end + 1
        }
        return true
    }

    /// The range of the SignedHeaders value in an `AWS4-HMAC-SHA256 …` Authorization header,
    /// found as the verifier finds it (`,`-separated, spaces trimmed, the last one counts).
    private static func fromAuthorization(_ b: UnsafeBufferPointer<UInt8>) -> Range<Int>? {
        var i = 0
        while i < b.count && b[i] == UInt8(ascii: " ") { i += 1 }
        // SAFETY: i + 17 < b.count, so the rebased view is in bounds; it is only read here.
        guard b.count - i > 17, Bytes.equal(UnsafeBufferPointer(rebasing: b[i..<(i + 17)]), "AWS4-HMAC-SHA256 ") else { return nil }
        i += 17
        guard i < b.count, b[i] < 0x80 else { return nil }
        var found: Range<Int>?
        while i < b.count {
            var end = i
            while end < b.count && b[end] != UInt8(ascii: ",") { end += 1 }
            var lo = i, hi = end
            while lo < hi && b[lo] == UInt8(ascii: " ") { lo += 1 }
            while hi > lo && b[hi - 1] == UInt8(ascii: " ") { hi -= 1 }
            var eq = lo
            while eq < hi && b[eq] != UInt8(ascii: "=") { eq += 1 }
            // SAFETY: lo ≤ eq ≤ hi ≤ b.count; the view is only read here.
            if eq < hi && Bytes.equal(UnsafeBufferPointer(rebasing: b[lo..<eq]), "SignedHeaders") { found = (eq + 1)..<hi }
            i = end + 1
        }
        return found
    }

    /// The raw query as nginx passed it: REQUEST_URI's after `?`, or QUERY_STRING.
    private static func rawQuery(_ params: [String: String]) -> String? {
        if let uri = params["REQUEST_URI"], !uri.isEmpty {
            guard let q = uri.utf8.firstIndex(of: UInt8(ascii: "?")) else { return nil }
            return String(Substring(uri.utf8[uri.utf8.index(after: q)...]))
        }
        return params["QUERY_STRING"]
    }

    /// `HTTP_X_AMZ_DATE` → `x-amz-date`.
    static func headerName(param: String) -> String {
        let name = param.utf8.dropFirst(5)
        // SAFETY: exactly name.count bytes are written, within the capacity asked for.
        return String(unsafeUninitializedCapacity: name.count) { out in
            var n = 0
            for b in name {
                out[n] = b == UInt8(ascii: "_") ? UInt8(ascii: "-") : (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") ? b | 0x20 : b)
                n += 1
            }
            return n
        }
    }
}
