import Escaping

/// File extension → Content-Type, as a fixed table so answers never depend on the host's
/// /etc/mime.types (the original's did). Text types carry no charset, as in the original.
public enum MediaType {
    /// The type served for names the table does not know; such objects also get
    /// `Content-Disposition: attachment` so browsers download instead of guessing.
    public static let fallback = "application/octet-stream"

    static let byExtension: [String: String] = [
        // Data formats of the imaging world
        "zarray": "application/json", "zattrs": "application/json", "zgroup": "application/json",
        "zmetadata": "application/json", "json": "application/json", "geojson": "application/geo+json",
        "yaml": "text/plain+yaml", "h5": "application/x-hdf5", "hdf5": "application/x-hdf5",
        "nc": "application/x-netcdf", "tif": "image/tiff", "tiff": "image/tiff",
        "nrrd": "application/octet-stream", "npy": "application/octet-stream",
        // Cryo-EM maps and stacks (MRC/CCP4: `.mrc`, `.mrcs`, `.map`, IMOD's `.rec`): no registered
        // type, and `.mrc` is not MARC (application/marc is a library-catalogue format).
        "mrc": "application/octet-stream", "mrcs": "application/octet-stream", "map": "application/octet-stream",
        "rec": "application/octet-stream", "nii": "application/octet-stream",
        // Imaris files are HDF5 containers: HDF5 tools (h5py, HDFView, h5web) open them as such.
        "ims": "application/x-hdf5",
        // Zeiss CZI and Nikon ND2 microscopy: proprietary, no registered or conventional type.
        "czi": "application/octet-stream", "nd2": "application/octet-stream",
        // Text
        "txt": "text/plain", "md": "text/markdown", "markdown": "text/markdown", "csv": "text/csv",
        "tsv": "text/tab-separated-values", "html": "text/html", "htm": "text/html", "css": "text/css",
        "js": "text/javascript", "mjs": "text/javascript", "xml": "application/xml", "py": "text/x-python",
        "log": "text/plain", "ini": "text/plain", "cfg": "text/plain", "rst": "text/x-rst", "java": "text/x-java",
        "c": "text/x-c", "h": "text/x-c", "sh": "application/x-sh", "toml": "application/toml",
        // Images, media
        "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif",
        "svg": "image/svg+xml", "webp": "image/webp", "bmp": "image/bmp", "ico": "image/vnd.microsoft.icon",
        "avif": "image/avif", "mp4": "video/mp4", "webm": "video/webm", "mov": "video/quicktime",
        "avi": "video/x-msvideo", "mp3": "audio/mpeg", "wav": "audio/x-wav",
        // Documents and archives (compressed suffixes are served as themselves, never as the
        // inner type without Content-Encoding: `x.json.gz` is gzip, not JSON)
        "pdf": "application/pdf", "zip": "application/zip", "gz": "application/gzip",
        "tgz": "application/gzip", "bz2": "application/x-bzip2", "xz": "application/x-xz",
        "zst": "application/zstd", "tar": "application/x-tar", "7z": "application/x-7z-compressed",
        "wasm": "application/wasm", "ipynb": "application/x-ipynb+json", "parquet": "application/vnd.apache.parquet",
    ]

    /// The Content-Type for a key, from the extension of its last segment (case-insensitive).
    public static func forKey(_ key: String) -> String { forName(lastSegment(key)) }

    /// The Content-Type for a key's last segment (see `lastSegment`).
    package static func forName(_ name: Substring) -> String {
        // Over contiguous bytes, because a UTF8View walk is slow per byte.
        var name = name
        let found = name.withUTF8 { b -> (dot: Int, upper: Bool)? in
            guard let dot = b.lastIndex(of: UInt8(ascii: ".")), dot != 0 || b.count > 1 else { return nil }
            return (dot, b[(dot + 1)...].contains { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") })
        }
        guard let found else { return fallback }
        let ext = name[name.utf8.index(name.utf8.startIndex, offsetBy: found.dot + 1)...]
        // Extensions are almost always lower-case already: skip lowercased()'s allocation then.
        return byExtension[found.upper ? ext.lowercased() : String(ext)] ?? fallback
    }

    /// The key's last `/`-separated segment (the whole key without a `/`). Scans contiguous
    /// bytes: a Character-wise split, then a UTF8View walk, were hot spots on every GET.
    package static func lastSegment(_ key: String) -> Substring {
        var key = key
        let start = key.withUTF8 { $0.lastIndex(of: UInt8(ascii: "/")).map { $0 + 1 } ?? 0 }
        return key[key.utf8.index(key.utf8.startIndex, offsetBy: start)...]
    }

    /// `Content-Disposition` for a download, RFC 6266: a quoted ASCII fallback plus
    /// `filename*` when the name is not plain ASCII.
    public static func attachmentDisposition(forKey key: String) -> String {
        attachmentDisposition(forName: lastSegment(key))
    }

    /// RFC 8187 attr-char: the bytes a `filename*` value holds as they are.
    static let attrChar = ByteSet { b in
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"): true
        default: "!#$&+-.^_`|~".utf8.contains(b)
        }
    }

    /// The same for a key's last segment (see `lastSegment`).
    static func attachmentDisposition(forName segment: Substring) -> String {
        if let plain = plainAttachmentDisposition(segment) { return plain }
        let name = String(segment)
        let ascii = name.unicodeScalars.allSatisfy { $0.isASCII && $0.value >= 0x20 && $0.value != 0x7F }
        var fallbackName = ""
        for s in name.unicodeScalars {
            if s == "\"" || s == "\\" { fallbackName += "_" } else if s.isASCII && s.value >= 0x20 && s.value != 0x7F {
                fallbackName.unicodeScalars.append(s)
            } else { fallbackName += "_" }
        }
        var value = "attachment; filename=\"\(fallbackName)\""
        if !ascii {
            value += "; filename*=UTF-8''" + PercentEncoding.encode(name, keeping: attrChar)
        }
        return value
    }
}

extension MediaType {
    /// The common case (chunk names like `0.0.0`): printable ASCII without `"` or `\`, so the
    /// name goes in as is. Built in one piece over contiguous bytes, avoiding a UTF8View scan and
    /// String appends on every GET. Nil for any other name.
    private static func plainAttachmentDisposition(_ segment: Substring) -> String? {
        var segment = segment
        return segment.withUTF8 { name -> String? in
            guard name.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) else { return nil }
            let prefix: StaticString = "attachment; filename=\""
            // SAFETY: StaticString storage is immortal; count is the prefix, name and closing quote, exactly
            //  what is initialised and returned.
            let prefixBytes = UnsafeBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount)
            let count = prefixBytes.count + name.count + 1
            return String(unsafeUninitializedCapacity: count) { out in
                _ = out.initialize(from: prefixBytes)
                _ = UnsafeMutableBufferPointer(rebasing: out[prefixBytes.count...]).initialize(from: name)
                out[count - 1] = UInt8(ascii: "\"")
                return count
            }
        }
    }
}
