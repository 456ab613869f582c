/// Cache-Control by data format, for browsers and for nginx's fastcgi_cache (which honours
/// `max-age`). Chunks of chunked array formats are effectively immutable once written and are
/// read over and over by viewers; the metadata that describes an array changes when the array
/// is rewritten or extended, so it is cached briefly and revalidated (a cheap 304 here).
/// Anything else gets no Cache-Control: nginx's `fastcgi_cache_valid` and the browser's
/// heuristics decide, as before.
public enum CachePolicy {
    /// Metadata of Zarr v2 (`.zarray`, `.zattrs`, `.zgroup`, `.zmetadata`), Zarr v3 (`zarr.json`),
    /// N5 (`attributes.json`) and Neuroglancer precomputed (`info`).
    static let metadataNames: Set<String> = [".zarray", ".zattrs", ".zgroup", ".zmetadata", "zarr.json", "attributes.json", "info"]

    public static let metadata = "public, max-age=10, must-revalidate"
    public static let chunk = "public, max-age=86400"

    /// The Cache-Control value for an object key, or nil for "no opinion".
    public static func cacheControl(forKey key: String) -> String? { cacheControl(forName: MediaType.lastSegment(key)) }

    /// The same for a key's last segment (see `MediaType.lastSegment`).
    static func cacheControl(forName name: Substring) -> String? {
        if isChunkName(name) { return chunk }
        // Seven names: comparing lengths first beats hashing the name on every GET.
        let length = name.utf8.count
        return metadataNames.contains { $0.utf8.count == length && $0.utf8.elementsEqual(name.utf8) } ? metadata : nil
    }

    /// A chunk's file name: digits joined by `.`, `_` or `-` (Zarr `0.1.2`, the last part of
    /// Zarr v3/N5 `c/0/1/2`, precomputed `0-64_0-64_0-64`), or a precomputed/Zarr shard `N.shard`.
    package static func isChunkName(_ name: Substring) -> Bool {
        // Contiguous bytes: Substring.hasSuffix compares Characters, and a UTF8View walk is slow.
        var name = name
        return name.withUTF8 { all in
            var s = all[...]
            if s.last == UInt8(ascii: "d"), s.count >= 6, s.suffix(6).elementsEqual(".shard".utf8) { s = s.dropLast(6) }
            guard let first = s.first, let last = s.last, isDigit(first), isDigit(last) else { return false }
            var previousWasSeparator = false
            for b in s {
                if isDigit(b) {
                    previousWasSeparator = false
                } else if b == UInt8(ascii: ".") || b == UInt8(ascii: "_") || b == UInt8(ascii: "-") {
                    if previousWasSeparator { return false }
                    previousWasSeparator = true
                } else {
                    return false
                }
            }
            return true
        }
    }

    private static func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
}
