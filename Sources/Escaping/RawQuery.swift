import Glibc

/// The one scanner of a raw (still encoded) query string's bytes: the request parser, the
/// canonical query, the presigned parameters and the signature check all read items this way.
public enum RawQuery {
    /// Calls `body` with the byte ranges of each non-empty `&`-separated item of `b`: its name,
    /// and its value (nil when the item has no `=`), until `body` returns false.
    @inlinable
    public static func forEachItem(in b: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>, Range<Int>?) -> Bool) {
        var start = 0
        while start < b.count {
            let end = Bytes.firstIndex(of: UInt8(ascii: "&"), in: b, from: start, to: b.count)
            defer { start = end + 1 }
            if end == start { continue }
            let eq = Bytes.firstIndex(of: UInt8(ascii: "="), in: b, from: start, to: end)
            guard body(start..<eq, eq < end ? (eq + 1)..<end : nil) else { return }
        }
    }
}

/// Byte comparisons for scanners of raw request bytes: generic `elementsEqual` against a
/// String's UTF-8 view is several times slower than this loop.
public enum Bytes {
    @inlinable
    public static func equal(_ bytes: UnsafeBufferPointer<UInt8>, _ literal: StaticString) -> Bool {
        guard bytes.count == literal.utf8CodeUnitCount else { return false }
        let l = literal.utf8Start
        for i in 0..<bytes.count where bytes[i] != l[i] { return false }
        return true
    }

    /// Whether `a` sorts before `b` byte by byte (a prefix first): `lexicographicallyPrecedes`
    /// without its generic path.
    @inlinable
    public static func precedes(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        for i in 0..<min(a.count, b.count) where a[i] != b[i] { return a[i] < b[i] }
        return a.count < b.count
    }

    /// Where `byte` first is in `b[from..<to]`, or `to`. memchr, not a loop: a presigned query
    /// is ~400 bytes, read by four scanners per request, and a byte loop was most of their time.
    public static func firstIndex(of byte: UInt8, in b: UnsafeBufferPointer<UInt8>, from: Int, to: Int) -> Int {
        // SAFETY: 0 <= from < to <= b.count (the callers' ranges), so memchr reads inside b; the hit it
        //  returns lies in b, and only its offset leaves.
        guard from < to, let base = b.baseAddress else { return to }
        guard let hit = memchr(base + from, Int32(byte), to - from) else { return to }
        return UnsafeRawPointer(hit) - UnsafeRawPointer(base)
    }

    @inlinable
    public static func startsWith(_ bytes: UnsafeBufferPointer<UInt8>, _ literal: StaticString) -> Bool {
        // SAFETY: the count is checked first, so the rebased view is in bounds.
        bytes.count >= literal.utf8CodeUnitCount
            && equal(UnsafeBufferPointer(rebasing: bytes[0..<literal.utf8CodeUnitCount]), literal)
    }

    @inlinable
    public static func equal(_ bytes: UnsafeBufferPointer<UInt8>, _ other: UnsafeBufferPointer<UInt8>) -> Bool {
        guard bytes.count == other.count else { return false }
        for i in 0..<bytes.count where bytes[i] != other[i] { return false }
        return true
    }

    @inlinable
    public static func equal(_ bytes: UnsafeBufferPointer<UInt8>, _ other: [UInt8]) -> Bool {
        guard bytes.count == other.count else { return false }
        for i in 0..<bytes.count where bytes[i] != other[i] { return false }
        return true
    }
}
