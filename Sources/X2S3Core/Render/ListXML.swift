/// `ListBucketResult` for ListObjectsV2 and ListObjects (V1), byte for byte in AWS's element
/// order:
/// - V2: Name, Prefix, StartAfter?, ContinuationToken?, NextContinuationToken?, KeyCount,
///   MaxKeys, Delimiter?, EncodingType?, IsTruncated, Contents*, CommonPrefixes*.
/// - V1: Name, Prefix, Marker, NextMarker?, MaxKeys, Delimiter?, EncodingType?, IsTruncated,
///   Contents*, CommonPrefixes*.
/// - Contents: Key, LastModified, ETag?, Size, Owner? (V1 always, V2 with fetch-owner),
///   StorageClass.
///
/// With `encoding-type=url`, every value that may hold a key (Key, Prefix, Delimiter,
/// StartAfter, Marker, NextMarker, CommonPrefixes) is url-encoded as S3 does, so a key with
/// characters XML cannot carry still round-trips; otherwise values are XML-escaped (and
/// characters XML 1.0 cannot carry are dropped, so the document is always well-formed).
/// An empty delimiter is not echoed (AWS omits it; it groups nothing).
public enum ListXML {
    /// The document for one page. `bucket` is the name as the client addressed it.
    public static func render(bucket: String, query: ListQuery, page: ListPage) -> String {
        func value(_ s: String) -> String { query.encodeURL ? xmlEscape(URLEncoding.listValue(s)) : xmlEscape(s) }
        func element(_ name: String, _ text: String) -> String { "<\(name)>\(text)</\(name)>" }

        var s = S3XML.declaration + "<ListBucketResult xmlns=\"\(S3XML.namespace)\">"
        s += element("Name", xmlEscape(bucket))
        s += element("Prefix", value(query.prefix))
        switch query.version {
        case .v2:
            if let startAfter = query.startAfter { s += element("StartAfter", value(startAfter)) }
            if let token = query.continuationToken { s += element("ContinuationToken", xmlEscape(token)) }
            if let next = page.nextContinuationToken { s += element("NextContinuationToken", xmlEscape(next)) }
            s += element("KeyCount", String(page.objects.count + page.commonPrefixes.count))
        case .v1:
            s += element("Marker", value(query.marker ?? ""))
            if let next = page.nextMarker { s += element("NextMarker", value(next)) }
        }
        s += element("MaxKeys", String(query.maxKeys))
        if let delimiter = query.delimiter, !delimiter.isEmpty { s += element("Delimiter", value(delimiter)) }
        if query.encodeURL { s += element("EncodingType", "url") }
        s += element("IsTruncated", page.isTruncated ? "true" : "false")

        let owner = query.version == .v1 || query.fetchOwner
        for object in page.objects {
            s += "<Contents>"
            s += element("Key", value(object.key))
            s += element("LastModified", lastModified(object.lastModified))
            if let etag = object.etag { s += element("ETag", xmlEscape(etag)) }
            s += element("Size", String(object.size))
            if owner { s += S3XML.ownerElement }
            s += element("StorageClass", xmlEscape(object.storageClass))
            s += "</Contents>"
        }
        for prefix in page.commonPrefixes {
            s += "<CommonPrefixes>" + element("Prefix", value(prefix)) + "</CommonPrefixes>"
        }
        return s + "</ListBucketResult>"
    }

    /// `2026-11-25T10:00:00.000Z`: whole seconds, as the original and S3's examples write it.
    static func lastModified(_ t: Timestamp) -> String { HTTPDate.iso8601(t.seconds) }
}
