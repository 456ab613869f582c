/// The one scanner of a raw (still encoded) query string's bytes: the request parser, the
/// canonical query, the presigned parameters and the signature check all read items this way.
public enum RawQuery {
    /// Calls `body` with the byte ranges of each non-empty `&`-separated item of `b`: its name,
    /// and its value (nil when the item has no `=`), until `body` returns false.
    @inlinable
    public static func forEachItem(in b: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>, Range<Int>?) -> Bool) {
        var start = 0
        while start < b.count {
            var end = start
            while end < b.count && b[end] != UInt8(ascii: "&") { end += 1 }
            defer { start = end + 1 }
            if end == start { continue }
            var eq = start
            while eq < end && b[eq] != UInt8(ascii: "=") { eq += 1 }
            guard body(start..<eq, eq < end ? (eq + 1)..<end : nil) else { return }
        }
    }
}
