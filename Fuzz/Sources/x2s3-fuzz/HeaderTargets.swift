// Fuzz targets for the header parsers: Range, the conditional headers and HTTP dates.
@testable internal import S3Protocol
@testable internal import X2S3Core

/// Input: a Range header value. Property: whatever parses resolves to a non-empty range
/// inside the object for every size, and the canonical form parses back to the same value.
func fuzzRange(_ bytes: [UInt8]) {
    let header = String(decoding: bytes, as: UTF8.self)
    guard let range = ByteRangeRequest(header: header) else { return }
    for size: UInt64 in [0, 1, 2, 10, 65536, UInt64.max - 1, UInt64.max] {
        guard let r = range.resolve(size: size) else { continue }
        require(!r.isEmpty && r.upperBound <= size, "\(header) resolved to \(r) for size \(size)")
    }
    let canonical: String
    switch range {
    case .closed(let a, let b):
        require(a <= b, "closed range \(a)-\(b) is reversed")
        canonical = "bytes=\(a)-\(b)"
    case .from(let a): canonical = "bytes=\(a)-"
    case .suffix(let n): canonical = "bytes=-\(n)"
    }
    require(ByteRangeRequest(header: canonical) == range, "\(canonical) does not round-trip")
}

/// Input lines: the ETag (empty: none), the last-modified second, then `name: value` header
/// lines. Properties: evaluation never traps; no conditional header means proceed; every
/// date that parses survives a format/parse round trip; formatting any second never traps.
func fuzzConditional(_ bytes: [UInt8]) {
    let ls = lines(bytes)
    let etag = ls.first.flatMap { $0.isEmpty ? nil : $0 }
    let lastModified = ls.count > 1 ? Int64(ls[1]) ?? Int64(truncatingIfNeeded: ls[1].hashValue) : 0
    var headers: [String: String] = [:]
    for line in ls.dropFirst(2) {
        guard let colon = line.firstIndex(of: ":") else { continue }
        headers[line[..<colon].lowercased()] = String(line[line.index(after: colon)...]).trimmingSpaces
    }
    let outcome = Preconditions.evaluate(headers: headers, etag: etag, lastModified: lastModified)
    let conditional = ["if-match", "if-none-match", "if-modified-since", "if-unmodified-since", "if-range"]
    if !conditional.contains(where: { headers[$0] != nil }) {
        require(outcome == .proceed(honourRange: true), "no conditional headers but \(outcome)")
    }
    for value in headers.values + ls {
        guard let t = HTTPDate.parse(value) else { continue }
        require(HTTPDate.parse(HTTPDate.rfc1123(t)) == t, "\(value) → \(t) does not round-trip")
    }
    // Any modification time a filesystem can report must format (tmpfs allows all of Int64).
    _ = HTTPDate.rfc1123(lastModified)
    _ = HTTPDate.iso8601(lastModified)
}
