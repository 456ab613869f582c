@testable import S3Protocol
@testable import Storage
import Testing
@testable import X2S3Core

@Suite struct ListObjectsV2ParserTests {
    static let page = """
        <?xml version="1.0" encoding="UTF-8"?>
        <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>up</Name><Prefix>root%2F</Prefix>\
        <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken><KeyCount>3</KeyCount>\
        <MaxKeys>3</MaxKeys><Delimiter>%2F</Delimiter><EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>\
        <Contents><Key>root/a+b%2Bc%26d.txt</Key><LastModified>2024-05-17T09:30:15.000Z</LastModified>\
        <ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag><Size>11</Size><StorageClass>STANDARD_IA</StorageClass></Contents>\
        <Contents><Key>root/%E1%88%B4%01</Key><LastModified>2024-05-17T09:30:16Z</LastModified><Size>0</Size></Contents>\
        <CommonPrefixes><Prefix>root/dir%2F</Prefix></CommonPrefixes></ListBucketResult>
        """

    @Test func urlEncodedKeysAreDecodedWithPlusAsSpace() throws {
        let r = try ListObjectsV2Parser.parse(Array(Self.page.utf8))
        #expect(r.objects.map(\.key) == ["root/a b+c&d.txt", "root/\u{1234}\u{1}"])
        #expect(r.commonPrefixes == ["root/dir/"])
        #expect(r.isTruncated)
        #expect(r.nextContinuationToken == "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=")
    }

    @Test func sizesDatesETagsAndStorageClassesAreRead() throws {
        let r = try ListObjectsV2Parser.parse(Array(Self.page.utf8))
        #expect(r.objects[0].size == 11)
        #expect(r.objects[0].lastModified == HTTPDate.epoch(year: 2024, month: 5, day: 17, hour: 9, minute: 30, second: 15))
        #expect(r.objects[0].etag == "\"9b2cf535f27731c974343645a3985328\"")
        #expect(r.objects[0].storageClass == "STANDARD_IA")
        #expect(r.objects[1].lastModified == HTTPDate.epoch(year: 2024, month: 5, day: 17, hour: 9, minute: 30, second: 16))
        #expect(r.objects[1].etag == nil && r.objects[1].storageClass == nil)
    }

    @Test func entitiesAndCDATAAreDecodedWhenTheUpstreamDidNotUrlEncode() throws {
        let xml = "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>a&amp;b&lt;c&gt;&quot;&apos;&#233;&#x1F600;</Key><Size>1</Size></Contents>"
            + "<Contents><Key><![CDATA[x<y>&z]]></Key><Size>2</Size></Contents><CommonPrefixes><Prefix>p+q%20/</Prefix></CommonPrefixes></ListBucketResult>"
        let r = try ListObjectsV2Parser.parse(Array(xml.utf8))
        #expect(r.objects.map(\.key) == ["a&b<c>\"'é😀", "x<y>&z"])
        // Without EncodingType=url nothing is percent-decoded.
        #expect(r.commonPrefixes == ["p+q%20/"])
        #expect(!r.isTruncated && r.nextContinuationToken == nil)
    }

    @Test func namespacePrefixesAndSelfClosingElementsAreTolerated() throws {
        let xml = "<s3:ListBucketResult xmlns:s3='x'><s3:Contents><s3:Key>k</s3:Key><s3:Size>5</s3:Size><s3:ETag/></s3:Contents></s3:ListBucketResult>"
        let r = try ListObjectsV2Parser.parse(Array(xml.utf8))
        #expect(r.objects == [ListObjectsV2Parser.Object(key: "k", size: 5, lastModified: 0, etag: "", storageClass: nil)])
    }

    @Test(arguments: ["<ListBucketResult><Contents></ListBucketResult>", "<ListBucketResult>", "<!DOCTYPE x [<!ENTITY a 'b'>]><ListBucketResult/>",
                      "<ListBucketResult><Contents><Key>&bogus;</Key></Contents></ListBucketResult>", "<ListBucketResult><Key>a</ListBucketResult"])
    func malformedDocumentsAreABadGateway(xml: String) {
        #expect(throws: S3Error.self) { try ListObjectsV2Parser.parse(Array(xml.utf8)) }
    }

    @Test func keysThatDecodeToInvalidUTF8AreDropped() throws {
        let xml = "<ListBucketResult><EncodingType>url</EncodingType><Contents><Key>bad%FF</Key><Size>1</Size></Contents><Contents><Key>ok</Key><Size>1</Size></Contents></ListBucketResult>"
        #expect(try ListObjectsV2Parser.parse(Array(xml.utf8)).objects.map(\.key) == ["ok"])
    }

    @Test func errorDocumentsYieldCodeAndMessage() {
        let xml = "<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>The resource &amp; key</Message><Key>a</Key><RequestId>1</RequestId></Error>"
        let e = ListObjectsV2Parser.parseError(Array(xml.utf8))
        #expect(e.code == "NoSuchKey" && e.message == "The resource & key")
        #expect(ListObjectsV2Parser.parseError(Array("not xml at all <".utf8)).code == nil)
        #expect(ListObjectsV2Parser.parseError([]).code == nil)
    }

    @Test(arguments: [("2024-05-17T09:30:15.000Z", 1_715_938_215), ("2024-05-17T09:30:15Z", 1_715_938_215),
                      ("2024-05-17T11:30:15+02:00", 1_715_938_215), ("2024-05-17T09:30:15.123456Z", 1_715_938_215)])
    func isoDatesParseToEpochSeconds(text: String, epoch: Int64) {
        #expect(ISO8601.parse(text) == epoch)
    }

    @Test(arguments: ["", "2024-05-17", "2024-13-17T09:30:15Z", "yesterday"])
    func badIsoDatesAreNil(text: String) { #expect(ISO8601.parse(text) == nil) }
}
