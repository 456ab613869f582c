/// The fixed S3 XML documents (errors, ListBuckets, ACL, location) as pure string builders.
/// Listings are in `ListXML`. Every text node goes through `xmlEscape`.
public enum S3XML {
    public static let declaration = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    public static let namespace = "http://s3.amazonaws.com/doc/2006-03-01/"
    /// The one owner x2s3 reports everywhere (listings, ListBuckets, ACLs).
    public static let ownerID = "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a"
    public static let ownerName = "x2s3"

    static let ownerElement = "<Owner><ID>\(ownerID)</ID><DisplayName>\(ownerName)</DisplayName></Owner>"

    /// The `Error` document of `error` (an `S3Error.wire`). `resource` is the request path.
    public static func error(_ error: S3Error.Wire, resource: String, requestID: String) -> String {
        var s = declaration + "<Error><Code>\(xmlEscape(error.code))</Code><Message>\(xmlEscape(error.message))</Message>"
        for field in error.fields { s += "<\(field.name)>\(xmlEscape(field.value))</\(field.name)>" }
        if error.namesResource { s += "<Resource>\(xmlEscape(resource))</Resource>" }
        s += "<RequestId>\(requestID)</RequestId><HostId>\(requestID)</HostId></Error>"
        return s
    }

    /// `ListAllMyBucketsResult` for one page of the browseable buckets, in config order;
    /// `ContinuationToken` when more follow and `Prefix` when the request sent one, after
    /// `Buckets` as AWS writes them.
    public static func listBuckets(_ buckets: [(name: String, created: Int64)], continuationToken: String? = nil,
                                   prefix: String? = nil) -> String {
        var s = declaration + "<ListAllMyBucketsResult xmlns=\"\(namespace)\">" + ownerElement + "<Buckets>"
        for b in buckets {
            s += "<Bucket><Name>\(xmlEscape(b.name))</Name><CreationDate>\(HTTPDate.iso8601(b.created))</CreationDate></Bucket>"
        }
        s += "</Buckets>"
        if let continuationToken { s += "<ContinuationToken>\(xmlEscape(continuationToken))</ContinuationToken>" }
        if let prefix { s += "<Prefix>\(xmlEscape(prefix))</Prefix>" }
        return s + "</ListAllMyBucketsResult>"
    }

    /// The original's public-read ACL (AllUsers READ), now with the S3 namespace.
    public static var publicReadACL: String {
        acl(granteeType: "Group", grantee: "<URI>http://acs.amazonaws.com/groups/global/AllUsers</URI>", permission: "READ")
    }

    /// A private bucket's ACL: S3's canned `private`, the owner's grant alone. (AllUsers READ
    /// would tell a client or an auditor that anyone may read it.)
    public static var privateACL: String {
        acl(granteeType: "CanonicalUser", grantee: "<ID>\(ownerID)</ID><DisplayName>\(ownerName)</DisplayName>", permission: "FULL_CONTROL")
    }

    /// An AccessControlPolicy of the owner with one grant.
    private static func acl(granteeType: String, grantee: String, permission: String) -> String {
        declaration + "<AccessControlPolicy xmlns=\"\(namespace)\">" + ownerElement
            + "<AccessControlList><Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"\(granteeType)\">"
            + grantee + "</Grantee><Permission>\(permission)</Permission></Grant></AccessControlList></AccessControlPolicy>"
    }

    /// GetBucketLocation: empty means us-east-1, as S3 answers.
    public static func location(region: String) -> String {
        let r = region == "us-east-1" ? "" : xmlEscape(region)
        return declaration + "<LocationConstraint xmlns=\"\(namespace)\">\(r)</LocationConstraint>"
    }
}

/// Escapes XML text and attribute values, and drops characters XML 1.0 cannot carry at all
/// (C0 controls other than tab/LF/CR, U+FFFE/U+FFFF), so no response is ever invalid XML.
public func xmlEscape(_ s: String) -> String {
    var needs = false
    for b in s.utf8 where b == 0x26 || b == 0x3C || b == 0x3E || b == 0x22 || b == 0x27 || b < 0x20 || b == 0xEF {
        needs = true
        break
    }
    if !needs { return s }
    var out: [UInt8] = []
    out.reserveCapacity(s.utf8.count + 16)
    appendXMLEscaped(s, to: &out)
    return String(decoding: out, as: UTF8.self)
}

/// Appends `s` escaped as `xmlEscape` does, as UTF-8, copying runs of plain bytes at once: a
/// listing page escapes every key and ETag (each ETag holds quotes), thousands per page.
func appendXMLEscaped(_ s: String, to out: inout [UInt8]) {
    var s = s
    // SAFETY: u is s's contiguous UTF-8, valid inside withUTF8; every slice is within 0..<u.count, and a
    //  StaticString's storage is immortal.
    s.withUTF8 { u in
        var run = 0, i = 0
        while i < u.count {
            let replacement: StaticString
            var width = 1
            switch u[i] {
            case 0x26: replacement = "&amp;"
            case 0x3C: replacement = "&lt;"
            case 0x3E: replacement = "&gt;"
            case 0x22: replacement = "&quot;"
            case 0x27: replacement = "&apos;"
            case 0x0D: replacement = "&#13;"
            case 0x09, 0x0A: i += 1; continue
            case 0..<0x20: replacement = ""
            // U+FFFE and U+FFFF (0xEF is only ever a lead byte in valid UTF-8).
            case 0xEF where i + 2 < u.count && u[i + 1] == 0xBF && u[i + 2] >= 0xBE: replacement = ""; width = 3
            default: i += 1; continue
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: u[run..<i]))
            out.append(contentsOf: UnsafeBufferPointer(start: replacement.utf8Start, count: replacement.utf8CodeUnitCount))
            i += width
            run = i
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: u[run...]))
    }
}
