@testable import S3Protocol
import Testing
@testable import X2S3Core

/// The object headers written in place or from byte scans, against the plain code they replace.
@Suite struct ObjectHeadersTests {
    @Test(arguments: [(0, 0, 0), (1, 0, 15), (0, 999_999_999, 16), (1_795_600_800, 123, 1 << 40), (-1, 0, UInt64.max), (Int64.max / 2_000_000_000, 5, 255)] as [(Int64, Int64, UInt64)])
    func cheapETagIsHexOfNanosecondsAndSize(seconds: Int64, nanoseconds: Int64, size: UInt64) {
        let mtime = Timestamp(seconds: seconds, nanoseconds: nanoseconds)
        let ns = UInt64(bitPattern: seconds &* 1_000_000_000 &+ nanoseconds)
        #expect(ObjectHeaders.cheapETag(size: size, mtime: mtime) == "\"\(String(ns, radix: 16))-\(String(size, radix: 16))\"")
    }

    @Test(arguments: ["0.0.0", "a b.bin", "", "x\"y", "back\\slash", "tab\tname", "日本.bin", "ok~!#$&'()*+,;=@"])
    func plainDispositionMatchesTheGeneralOne(name: String) {
        let disposition = MediaType.attachmentDisposition(forKey: "dir/" + name)
        if name.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) {
            #expect(disposition == "attachment; filename=\"\(name)\"")
        } else {
            #expect(disposition != "attachment; filename=\"\(name)\"")
        }
    }

    @Test(arguments: ["a.json", "A.JSON", "x.tar.gz", ".zarray", ".", "noext", "dir.d/file", "dir/é.PNG", "a.", "..", "d/.json", "x.Ünknown", "", "/"])
    func mediaTypeByExtension(key: String) {
        let name = key.split(separator: "/", omittingEmptySubsequences: false).last ?? ""
        var expected = MediaType.fallback
        if let dot = name.lastIndex(of: "."), dot != name.startIndex || name.count > 1 {
            expected = MediaType.byExtension[name[name.index(after: dot)...].lowercased()] ?? MediaType.fallback
        }
        #expect(MediaType.forKey(key) == expected)
    }

    /// The formats x2s3's users store (issue 13 item 7).
    @Test(arguments: [
        ("em/map.mrc", "application/octet-stream"), ("s.MRCS", "application/octet-stream"), ("x.map", "application/octet-stream"),
        ("tomo.rec", "application/octet-stream"), ("a.tif", "image/tiff"), ("a.TIFF", "image/tiff"), ("a.ome.tif", "image/tiff"),
        ("d.h5", "application/x-hdf5"), ("d.hdf5", "application/x-hdf5"), ("brain.nii", "application/octet-stream"),
        ("brain.nii.gz", "application/gzip"), ("cells.ims", "application/x-hdf5"), ("slide.czi", "application/octet-stream"),
        ("plate.nd2", "application/octet-stream"),
    ] as [(String, String)])
    func mediaTypesOfImagingFormats(key: String, type: String) {
        #expect(MediaType.forKey(key) == type)
    }

    @Test(arguments: ["0.1.2", "0", "0.shard", "12-34_5.shard", ".shard", "a.shard", "0..1", "0.", "info", ".zarray", "zarr.json", "x.json", "dshard"])
    func cachePolicyByName(name: String) {
        let isChunk: Bool = {
            var s = Substring(name)
            if s.hasSuffix(".shard") { s = s.dropLast(6) }
            guard let f = s.first, let l = s.last, f.isASCII && f.isNumber, l.isASCII && l.isNumber else { return false }
            return !s.contains("..") && !s.contains("._") && !s.contains("_.") && !s.contains("--") && !s.contains("-.")
                && !s.contains(".-") && !s.contains("__") && !s.contains("_-") && !s.contains("-_")
                && s.allSatisfy { $0.isASCII && ($0.isNumber || $0 == "." || $0 == "_" || $0 == "-") }
        }()
        let expected = isChunk ? CachePolicy.chunk : CachePolicy.metadataNames.contains(name) ? CachePolicy.metadata : nil
        #expect(CachePolicy.cacheControl(forKey: "a/b/" + name) == expected)
    }
}
