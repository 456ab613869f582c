/// The headers S3 sends for an object, shared by GET and HEAD so they can never disagree.
public enum ObjectHeaders {
    /// Representation headers for a 200/206 (`range` nil means the whole object).
    public static func forObject(key: String, info: ObjectInfo, range: Range<UInt64>?) -> ResponseHead {
        var head = ResponseHead(status: range == nil ? 200 : 206)
        let type = info.contentType ?? MediaType.forKey(key)
        head.add("Content-Type", type)
        if let range {
            head.add("Content-Length", String(range.count))
            head.add("Content-Range", "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(info.size)")
        } else {
            head.add("Content-Length", String(info.size))
        }
        addValidators(&head, info)
        head.add("Accept-Ranges", "bytes")
        if type == MediaType.fallback {
            head.add("Content-Disposition", MediaType.attachmentDisposition(forKey: key))
        }
        if let cc = CachePolicy.cacheControl(forKey: key) { head.add("Cache-Control", cc) }
        return head
    }

    /// A 304 carries the validators and nothing about the body (RFC 9110 §15.4.5).
    public static func notModified(info: ObjectInfo) -> ResponseHead {
        var head = ResponseHead(status: 304)
        addValidators(&head, info)
        return head
    }

    /// The same, plus the Cache-Control a 200 would carry (RFC 9110 §15.4.5): nginx's cache takes
    /// a revalidated entry's new lifetime from the 304, and would otherwise fall back to
    /// `fastcgi_cache_valid` (a metadata file would then stay cached for minutes).
    public static func notModified(key: String, info: ObjectInfo) -> ResponseHead {
        var head = notModified(info: info)
        if let cc = CachePolicy.cacheControl(forKey: key) { head.add("Cache-Control", cc) }
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
        return "\"\(String(ns, radix: 16))-\(String(size, radix: 16))\""
    }
}
