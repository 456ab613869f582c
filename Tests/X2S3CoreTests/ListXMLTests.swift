@testable import S3Protocol
import Testing
@testable import X2S3Core

@Suite struct ListXMLTests {
    let head = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
    let owner = "<Owner><ID>\(S3XML.ownerID)</ID><DisplayName>x2s3</DisplayName></Owner>"

    func render(bucket: String, query: ListQuery, page: ListPage) -> String {
        String(decoding: ListXML.render(bucket: bucket, query: query, page: page), as: UTF8.self)
    }

    func object(_ key: String, size: UInt64 = 3) -> ListedObject {
        ListedObject(key: key, size: size, lastModified: Timestamp(seconds: 1_700_000_000), etag: "\"abc-1\"")
    }

    /// Names of the elements in document order (a tiny scanner, enough for these documents).
    func elementNames(_ xml: String) -> [String] {
        var names: [String] = []
        var rest = Substring(xml)
        while let lt = rest.firstIndex(of: "<") {
            rest = rest[rest.index(after: lt)...]
            guard let end = rest.firstIndex(where: { $0 == ">" || $0 == " " }) else { break }
            let name = rest[..<end]
            if !name.hasPrefix("/") && !name.hasPrefix("?") { names.append(String(name)) }
        }
        return names
    }

    @Test func v2WithEverythingFollowsAWSElementOrder() {
        var q = ListQuery(version: .v2)
        q.prefix = "p"; q.delimiter = "/"; q.maxKeys = 2; q.startAfter = "a"; q.continuationToken = "tok"
        q.encodeURL = true; q.fetchOwner = true
        var page = ListPage()
        page.objects = [object("p1")]
        page.commonPrefixes = ["p/"]
        page.isTruncated = true
        page.nextContinuationToken = "next"
        let xml = render(bucket: "b", query: q, page: page)
        #expect(elementNames(xml) == [
            "ListBucketResult", "Name", "Prefix", "StartAfter", "ContinuationToken", "NextContinuationToken", "KeyCount",
            "MaxKeys", "Delimiter", "EncodingType", "IsTruncated",
            "Contents", "Key", "LastModified", "ETag", "Size", "Owner", "ID", "DisplayName", "StorageClass",
            "CommonPrefixes", "Prefix",
        ])
        #expect(xml.contains("<KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>"))
    }

    @Test func minimalV2IsExactlyWhatS3Sends() {
        var page = ListPage()
        page.objects = [object("a.txt")]
        let xml = render(bucket: "Data", query: ListQuery(version: .v2), page: page)
        #expect(xml == head + "<Name>Data</Name><Prefix></Prefix><KeyCount>1</KeyCount><MaxKeys>1000</MaxKeys>"
            + "<IsTruncated>false</IsTruncated><Contents><Key>a.txt</Key><LastModified>2023-11-14T22:13:20.000Z</LastModified>"
            + "<ETag>&quot;abc-1&quot;</ETag><Size>3</Size><StorageClass>STANDARD</StorageClass></Contents></ListBucketResult>")
    }

    @Test func v1AlwaysHasMarkerAndOwnerAndNextMarkerWhenGiven() {
        var q = ListQuery(version: .v1)
        q.delimiter = "/"; q.maxKeys = 1
        var page = ListPage()
        page.objects = [object("a")]
        page.isTruncated = true
        page.nextMarker = "a"
        let xml = render(bucket: "b", query: q, page: page)
        #expect(elementNames(xml) == [
            "ListBucketResult", "Name", "Prefix", "Marker", "NextMarker", "MaxKeys", "Delimiter", "IsTruncated",
            "Contents", "Key", "LastModified", "ETag", "Size", "Owner", "ID", "DisplayName", "StorageClass",
        ])
        #expect(xml.contains("<Marker></Marker><NextMarker>a</NextMarker>"))
        #expect(xml.contains(owner))
        #expect(!xml.contains("KeyCount"))
    }

    @Test func v2HasNoOwnerUnlessFetchOwner() {
        var page = ListPage()
        page.objects = [object("a")]
        #expect(!render(bucket: "b", query: ListQuery(version: .v2), page: page).contains("<Owner>"))
    }

    @Test func hostileKeysAreEscapedAndInvalidXMLCharactersDropped() {
        var q = ListQuery(version: .v2)
        q.prefix = "<&>"
        var page = ListPage()
        page.objects = [object("q#?&<b>'\"\u{1}\u{FFFE}\r.txt")]
        page.commonPrefixes = ["a&b/"]
        let xml = render(bucket: "b", query: q, page: page)
        #expect(xml.contains("<Key>q#?&amp;&lt;b&gt;&apos;&quot;&#13;.txt</Key>"))
        #expect(xml.contains("<Prefix>&lt;&amp;&gt;</Prefix>"))
        #expect(xml.contains("<CommonPrefixes><Prefix>a&amp;b/</Prefix></CommonPrefixes>"))
    }

    @Test func encodingTypeURLEncodesEveryKeyBearingValue() {
        var q = ListQuery(version: .v2)
        q.prefix = "a b/"; q.delimiter = "+"; q.startAfter = "a b/\u{1}"; q.encodeURL = true
        var page = ListPage()
        page.objects = [object("a b/c+d%\u{E9}")]
        page.commonPrefixes = ["a b/x+"]
        let xml = render(bucket: "b", query: q, page: page)
        #expect(xml.contains("<Prefix>a+b/</Prefix><StartAfter>a+b/%01</StartAfter>"))
        #expect(xml.contains("<Delimiter>%2B</Delimiter><EncodingType>url</EncodingType>"))
        #expect(xml.contains("<Key>a+b/c%2Bd%25%C3%A9</Key>"))
        #expect(xml.contains("<CommonPrefixes><Prefix>a+b/x%2B</Prefix></CommonPrefixes>"))
    }

    @Test func encodingTypeURLEncodesV1MarkerAndNextMarker() {
        var q = ListQuery(version: .v1)
        q.marker = "m n"; q.delimiter = "/"; q.encodeURL = true
        var page = ListPage()
        page.isTruncated = true
        page.nextMarker = "x y/"
        let xml = render(bucket: "b", query: q, page: page)
        #expect(xml.contains("<Marker>m+n</Marker><NextMarker>x+y/</NextMarker>"))
    }

    @Test func anEmptyDelimiterIsNotEchoed() {
        var q = ListQuery(version: .v2)
        q.delimiter = ""
        #expect(!render(bucket: "b", query: q, page: ListPage()).contains("Delimiter"))
    }

    @Test func tokensAreEchoedVerbatim() {
        var q = ListQuery(version: .v2)
        q.continuationToken = "AbC-_9"
        var page = ListPage()
        page.isTruncated = true
        page.nextContinuationToken = "Zz-_0"
        let xml = render(bucket: "b", query: q, page: page)
        #expect(xml.contains("<ContinuationToken>AbC-_9</ContinuationToken><NextContinuationToken>Zz-_0</NextContinuationToken>"))
    }
}
