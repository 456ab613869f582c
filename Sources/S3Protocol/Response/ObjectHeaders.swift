import Escaping

/// The headers S3 sends for an object, shared by GET and HEAD so they can never disagree.
public enum ObjectHeaders {
    /// Representation headers for a 200/206 (`range` nil means the whole object), with the
    /// client's `response-*` overrides in place of the stored or derived values.
    public static func forObject(key: String, info: ObjectInfo, range: Range<UInt64>?,
                                 overrides: ResponseOverrides = ResponseOverrides()) -> ResponseHead {
        var head = ResponseHead(status: range == nil ? 200 : 206)
        // Room for these and the Dispatcher's common headers, so the array never regrows.
        head.headers.reserveCapacity(12)
        let name = MediaType.lastSegment(key)
        // The download rule follows the type sent: an unknown type the client replaced (to view
        // it inline, say) is no longer a download.
        let type = overrides.contentType ?? info.contentType ?? MediaType.forName(name)
        head.add("Content-Type", type)
        if let range {
            head.add("Content-Length", String(range.count))
            head.add("Content-Range", "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(info.size)")
        } else {
            head.add("Content-Length", String(info.size))
        }
        addValidators(&head, info)
        head.add("Accept-Ranges", "bytes")
        if let disposition = overrides.contentDisposition {
            head.add("Content-Disposition", disposition)
        } else if type == MediaType.fallback {
            head.add("Content-Disposition", MediaType.attachmentDisposition(forName: name))
        }
        if let cc = overrides.cacheControl ?? CachePolicy.cacheControl(forName: name) { head.add("Cache-Control", cc) }
        if overrides.isEmpty { return head }
        if let v = overrides.contentLanguage { head.add("Content-Language", v) }
        if let v = overrides.contentEncoding { head.add("Content-Encoding", v) }
        if let v = overrides.expires { head.add("Expires", v) }
        return head
    }

    /// A 304 carries the validators and nothing about the body (RFC 9110 §15.4.5).
    public static func notModified(info: ObjectInfo) -> ResponseHead {
        var head = ResponseHead(status: 304)
        addValidators(&head, info)
        return head
    }

    /// The same, plus the Cache-Control (and an overridden Expires) a 200 would carry (RFC 9110
    /// §15.4.5): nginx's cache takes a revalidated entry's new lifetime from the 304, and would
    /// otherwise fall back to `fastcgi_cache_valid` (a metadata file would then stay cached for
    /// minutes).
    public static func notModified(key: String, info: ObjectInfo, overrides: ResponseOverrides = ResponseOverrides()) -> ResponseHead {
        var head = notModified(info: info)
        if let cc = overrides.cacheControl ?? CachePolicy.cacheControl(forKey: key) { head.add("Cache-Control", cc) }
        if let v = overrides.expires { head.add("Expires", v) }
        return head
    }

    private static func addValidators(_ head: inout ResponseHead, _ info: ObjectInfo) {
        if let etag = info.etag { head.add("ETag", etag) }
        head.add("Last-Modified", HTTPDate.rfc1123(info.lastModified.seconds))
    }

    /// The cheap ETag: the modification time in nanoseconds and the size, in hex. Stable across
    /// workers and restarts, changes with either, reads no content, and its `-` means no SDK
    /// mistakes it for an MD5 (only a real MD5 may look like one).
    public static func cheapETag(size: UInt64, mtime: Timestamp) -> String {
        let ns = UInt64(bitPattern: mtime.seconds &* 1_000_000_000 &+ mtime.nanoseconds)
        // `"<ns hex>-<size hex>"`, lower-case hex without leading zeros (String(_:radix:)'s
        // digits), written in place because String(_:radix:) and interpolation are much dearer.
        let nsDigits = Hex.digitCount(ns), sizeDigits = Hex.digitCount(size)
        // SAFETY: the digit counts sized the capacity; exactly that many bytes are written and returned.
        return String(unsafeUninitializedCapacity: nsDigits + sizeDigits + 3) { out in
            out[0] = UInt8(ascii: "\"")
            Hex.write(ns, digits: nsDigits, into: out, at: 1)
            out[1 + nsDigits] = UInt8(ascii: "-")
            Hex.write(size, digits: sizeDigits, into: out, at: 2 + nsDigits)
            out[2 + nsDigits + sizeDigits] = UInt8(ascii: "\"")
            return nsDigits + sizeDigits + 3
        }
    }
}
