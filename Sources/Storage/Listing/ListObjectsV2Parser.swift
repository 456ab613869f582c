import S3Protocol

/// Reads the upstream's ListObjectsV2 result and error documents: S3's small, flat XML, read
/// with a pull scanner over bytes (no DOM, no DTDs: a `<!DOCTYPE` is refused, so no entity
/// expansion can be smuggled in). Pure, so the table tests need no network.
enum ListObjectsV2Parser {
    /// One `Contents` entry, key already url-decoded when the upstream encoded it.
    struct Object: Equatable {
        var key = ""
        var size: UInt64 = 0
        var lastModified: Int64 = 0
        var etag: String?
        var storageClass: String?
    }

    /// What x2s3 needs of a ListBucketResult.
    struct Result: Equatable {
        var objects: [Object] = []
        var commonPrefixes: [String] = []
        var isTruncated = false
        var nextContinuationToken: String?
    }

    /// Parses a ListBucketResult. Keys and prefixes that are not valid UTF-8 after decoding
    /// are dropped (S3 keys always are; anything else cannot be rendered safely).
    static func parse(_ bytes: [UInt8]) throws(S3Error) -> Result {
        var result = Result()
        var object = Object()
        var objectValid = true
        var encodedObjects: [(Object, Bool)] = []
        var rawPrefixes: [String] = []
        var urlEncoded = false
        let ok = XMLScanner.scan(bytes) { path, text in
            let p = path.suffix(2)
            switch (path.count, p.first, p.last) {
            case (2, "ListBucketResult", "IsTruncated"): result.isTruncated = text == "true"
            case (2, "ListBucketResult", "NextContinuationToken"): result.nextContinuationToken = text
            case (2, "ListBucketResult", "EncodingType"): urlEncoded = text == "url"
            case (3, "Contents", "Key"): object.key = text
            case (3, "Contents", "Size"):
                if let n = UInt64(text) { object.size = n } else { objectValid = false }
            case (3, "Contents", "LastModified"): object.lastModified = ISO8601.parse(text) ?? 0
            case (3, "Contents", "ETag"): object.etag = text
            case (3, "Contents", "StorageClass"): object.storageClass = text
            case (2, "ListBucketResult", "Contents"):
                encodedObjects.append((object, objectValid))
                object = Object()
                objectValid = true
            case (3, "CommonPrefixes", "Prefix"): rawPrefixes.append(text)
            default: break
            }
        }
        guard ok else { throw .badGateway("The upstream storage sent an unreadable listing.") }
        // EncodingType may come after the entries, so decoding waits for the whole document.
        for (var o, valid) in encodedObjects where valid {
            guard let key = urlEncoded ? percentDecode(o.key, plusIsSpace: true) : o.key else { continue }
            o.key = key
            result.objects.append(o)
        }
        for p in rawPrefixes {
            if let prefix = urlEncoded ? percentDecode(p, plusIsSpace: true) : p { result.commonPrefixes.append(prefix) }
        }
        return result
    }

    /// Code and Message of an upstream `<Error>` document; nils for anything else.
    static func parseError(_ bytes: [UInt8]) -> (code: String?, message: String?) {
        var code: String?, message: String?
        _ = XMLScanner.scan(bytes) { path, text in
            guard path.count == 2, path[0] == "Error" else { return }
            if path[1] == "Code" { code = text } else if path[1] == "Message" { message = text }
        }
        return (code.flatMap { $0.isEmpty ? nil : $0 }, message)
    }
}

/// ISO 8601 timestamps as S3 listings write them (`2024-05-17T09:30:15.000Z`; fraction and
/// a numeric offset tolerated), to whole seconds.
enum ISO8601 {
    static func parse(_ text: String) -> Int64? {
        let u = Array(text.utf8)
        func num(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= u.count else { return nil }
            var n = 0
            for b in u[from..<(from + count)] {
                guard b >= 0x30 && b <= 0x39 else { return nil }
                n = n * 10 + Int(b - 0x30)
            }
            return n
        }
        guard u.count >= 19, u[4] == UInt8(ascii: "-"), u[7] == UInt8(ascii: "-"), u[10] == UInt8(ascii: "T") || u[10] == UInt8(ascii: " "),
              u[13] == UInt8(ascii: ":"), u[16] == UInt8(ascii: ":"),
              let y = num(0, 4), let mo = num(5, 2), let d = num(8, 2), let h = num(11, 2), let mi = num(14, 2), let s = num(17, 2),
              (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, s <= 60
        else { return nil }
        var i = 19
        if i < u.count, u[i] == UInt8(ascii: ".") {
            i += 1
            while i < u.count, u[i] >= 0x30 && u[i] <= 0x39 { i += 1 }
        }
        var offset = 0
        if i < u.count, u[i] == UInt8(ascii: "+") || u[i] == UInt8(ascii: "-") {
            guard let oh = num(i + 1, 2), let om = num(i + 4 - (u.count == i + 5 ? 1 : 0), 2) else { return nil }
            offset = (oh * 3600 + om * 60) * (u[i] == UInt8(ascii: "+") ? 1 : -1)
        }
        return HTTPDate.epoch(year: y, month: mo, day: d, hour: h, minute: mi, second: s) - Int64(offset)
    }
}

/// A pull scanner for flat XML documents: reports each element's text when the element ends,
/// with the path of element names (namespace prefixes dropped) from the root.
enum XMLScanner {
    /// Calls `element(path, text)` at each end tag; false if the document is malformed.
    static func scan(_ b: [UInt8], _ element: ([String], String) -> Void) -> Bool {
        var path: [String] = []
        var text: [UInt8] = []
        var i = 0
        func find(_ needle: [UInt8], from: Int) -> Int? {
            guard needle.count <= b.count else { return nil }
            var j = from
            while j + needle.count <= b.count {
                if b[j] == needle[0], Array(b[j..<(j + needle.count)]) == needle { return j }
                j += 1
            }
            return nil
        }
        while i < b.count {
            guard b[i] == UInt8(ascii: "<") else { text.append(b[i]); i += 1; continue }
            if b[i...].starts(with: Array("<?".utf8)) {
                guard let e = find(Array("?>".utf8), from: i + 2) else { return false }
                i = e + 2
            } else if b[i...].starts(with: Array("<!--".utf8)) {
                guard let e = find(Array("-->".utf8), from: i + 4) else { return false }
                i = e + 3
            } else if b[i...].starts(with: Array("<![CDATA[".utf8)) {
                guard let e = find(Array("]]>".utf8), from: i + 9) else { return false }
                // Literal text: protect its `&` from the entity decoding done at the end tag.
                for c in b[(i + 9)..<e] { if c == UInt8(ascii: "&") { text += Array("&amp;".utf8) } else { text.append(c) } }
                i = e + 3
            } else if b[i...].starts(with: Array("<!".utf8)) {
                return false  // DOCTYPE and friends: S3 never sends them
            } else {
                guard let close = b[i...].firstIndex(of: UInt8(ascii: ">")) else { return false }
                var inner = Array(b[(i + 1)..<close])
                i = close + 1
                let isEnd = inner.first == UInt8(ascii: "/")
                let selfClosing = !isEnd && inner.last == UInt8(ascii: "/")
                if isEnd { inner.removeFirst() }
                if selfClosing { inner.removeLast() }
                let nameBytes = inner.prefix { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }
                var name = String(decoding: nameBytes, as: UTF8.self)
                if let colon = name.lastIndex(of: ":") { name = String(name[name.index(after: colon)...]) }
                guard !name.isEmpty else { return false }
                if isEnd {
                    guard path.last == name, let decoded = decodeEntities(text) else { return false }
                    element(path, decoded)
                    path.removeLast()
                } else {
                    path.append(name)
                    if selfClosing {
                        element(path, "")
                        path.removeLast()
                    }
                }
                text.removeAll(keepingCapacity: true)
            }
        }
        return path.isEmpty
    }

    /// The five predefined entities and numeric references; nil on a malformed one.
    static func decodeEntities(_ t: [UInt8]) -> String? {
        guard t.contains(UInt8(ascii: "&")) else { return String(decoding: t, as: UTF8.self) }
        var out: [UInt8] = []
        var i = 0
        while i < t.count {
            guard t[i] == UInt8(ascii: "&") else { out.append(t[i]); i += 1; continue }
            guard let semi = t[i...].firstIndex(of: UInt8(ascii: ";")), semi - i <= 12 else { return nil }
            let name = String(decoding: t[(i + 1)..<semi], as: UTF8.self)
            switch name {
            case "amp": out.append(UInt8(ascii: "&"))
            case "lt": out.append(UInt8(ascii: "<"))
            case "gt": out.append(UInt8(ascii: ">"))
            case "quot": out.append(UInt8(ascii: "\""))
            case "apos": out.append(UInt8(ascii: "'"))
            default:
                guard name.hasPrefix("#") else { return nil }
                let digits = name.dropFirst()
                let value = digits.hasPrefix("x") || digits.hasPrefix("X") ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits, radix: 10)
                guard let value, let scalar = Unicode.Scalar(value) else { return nil }
                out += Array(String(Character(scalar)).utf8)
            }
            i = semi + 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}
