/// A single byte range as the client wrote it, before the object size is known.
/// Multi-range and malformed headers never become one of these: S3 ignores them.
public enum ByteRangeRequest: Sendable, Equatable {
    /// `bytes=a-b`
    case closed(UInt64, UInt64)
    /// `bytes=a-`
    case from(UInt64)
    /// `bytes=-n`
    case suffix(UInt64)

    /// Parses a `Range` header; nil when absent, malformed, multi-range or not `bytes`.
    public init?(header: String?) {
        guard let header else { return nil }
        var h = Substring(header)
        while h.first == " " { h = h.dropFirst() }
        guard h.lowercased().hasPrefix("bytes=") else { return nil }
        let spec = h.dropFirst(6).filter { $0 != " " && $0 != "\t" }
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { return nil }
        let first = spec[..<dash], last = spec[spec.index(after: dash)...]
        func number(_ s: Substring) -> UInt64? {
            guard !s.isEmpty, s.count <= 19, s.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            return UInt64(s)
        }
        // An end past 2^64 only means "beyond any object": saturate, as S3 reads
        // `bytes=0-99999999999999999999` as "to the end" rather than as malformed.
        func bound(_ s: Substring) -> UInt64? {
            guard !s.isEmpty, s.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
            return UInt64(s) ?? .max
        }
        switch (first.isEmpty, last.isEmpty) {
        case (true, true): return nil
        case (true, false):
            guard let n = number(last) else { return nil }
            self = .suffix(n)
        case (false, true):
            guard let a = number(first) else { return nil }
            self = .from(a)
        case (false, false):
            guard let a = number(first), let b = bound(last), a <= b else { return nil }
            self = .closed(a, b)
        }
    }

    /// The bytes to send for an object of `size`: nil when unsatisfiable (→ 416).
    /// The end is clamped and an oversized suffix means the whole object, as RFC 9110 says.
    public func resolve(size: UInt64) -> Range<UInt64>? {
        switch self {
        case .closed(let a, let b):
            guard a < size else { return nil }
            return a..<(min(b, size - 1) + 1)
        case .from(let a):
            guard a < size else { return nil }
            return a..<size
        case .suffix(let n):
            guard n > 0, size > 0 else { return nil }
            return (size - min(n, size))..<size
        }
    }
}
