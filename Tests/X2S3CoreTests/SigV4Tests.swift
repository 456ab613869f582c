@testable import Auth
@testable import S3Protocol
import Testing
@testable import X2S3Core

/// SigV4 against AWS's published aws-sig-v4-test-suite (service `service`, us-east-1,
/// 2015-08-30T12:36:00Z, AKIDEXAMPLE) and against botocore's S3SigV4Auth for S3 requests.
@Suite struct SigV4Tests {
    static let suiteDate = HTTPDate.epoch(year: 2015, month: 8, day: 30, hour: 12, minute: 36, second: 0)
    static let example = SigV4.Credentials(accessKey: "AKIDEXAMPLE", secretKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    static let suiteSigner = SigV4(credentials: example, region: "us-east-1", service: "service")

    func suiteSign(_ path: String, _ query: [(String, String)] = [], headers: [(String, String)] = []) -> SigV4.Signed {
        Self.suiteSigner.sign(method: "GET", host: "example.amazonaws.com", path: path, query: query, date: Self.suiteDate,
                              payloadHeader: false, extraHeaders: headers)
    }

    func signature(_ s: SigV4.Signed) -> String { String(s.authorization.split(separator: "=").last ?? "") }

    /// (suite case, path, query, extra headers, published signature)
    static let suite: [(String, String, [(String, String)], [(String, String)], String)] = [
        ("get-vanilla", "/", [], [], "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
        ("get-unreserved", "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", [], [],
         "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"),
        ("get-vanilla-query-order-key-case", "/", [("Param2", "value2"), ("Param1", "value1")], [],
         "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),
        ("get-vanilla-query-order-value", "/", [("Param1", "value2"), ("Param1", "value1")], [],
         "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694"),
        ("get-vanilla-utf8-query", "/", [("\u{1234}", "bar")], [],
         "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"),
        ("get-header-value-order", "/", [], [("My-Header1", "value4"), ("My-Header1", "value1"), ("My-Header1", "value3"), ("My-Header1", "value2")],
         "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01"),
        ("get-header-key-duplicate", "/", [], [("My-Header1", "value2"), ("My-Header1", "value2"), ("My-Header1", "value1")],
         "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"),
        ("get-header-value-trim", "/", [], [("My-Header1", " value1"), ("My-Header2", "\"a   b   c\"")],
         "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"),
    ]

    @Test(arguments: suite.indices)
    func publishedSuiteVectorsSignToTheirPublishedSignatures(index: Int) {
        let (name, path, query, headers, expected) = Self.suite[index]
        let signed = suiteSign(path, query, headers: headers)
        #expect(signature(signed) == expected, "\(name)\n\(signed.canonicalRequest)")
        #expect(signed.authorization.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders="))
    }

    @Test func queryOrderKeyCaseHasThePublishedCanonicalRequestAndStringToSign() {
        let signed = suiteSign("/", [("Param2", "value2"), ("Param1", "value1")])
        #expect(signed.canonicalRequest == """
            GET
            /
            Param1=value1&Param2=value2
            host:example.amazonaws.com
            x-amz-date:20150830T123600Z

            host;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """)
        #expect(signed.stringToSign == """
            AWS4-HMAC-SHA256
            20150830T123600Z
            20150830/us-east-1/service/aws4_request
            816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0
            """)
    }

    /// get-space and get-utf8 publish canonical URIs for raw request lines; x2s3 signs the
    /// decoded key and sends the same encoding it signed.
    @Test(arguments: [("/example space/", "/example%20space/"), ("/\u{1234}", "/%E1%88%B4"), ("", "/"),
                      ("/a//b/./c/../d", "/a//b/./c/../d"), ("/q#?&<b> +=@'(1)%.txt", "/q%23%3F%26%3Cb%3E%20%2B%3D%40%27%281%29%25.txt")])
    func pathsAreEncodedOnceAndNeverNormalised(path: String, canonical: String) {
        #expect(SigV4.encodePath(path) == canonical)
    }

    @Test func queryValuesEncodeSlashesAndEmptyValuesKeepTheirEquals() {
        #expect(SigV4.canonicalQuery([("prefix", "a/b c+d"), ("delimiter", "/"), ("list-type", "2"), ("x", "")])
            == "delimiter=%2F&list-type=2&prefix=a%2Fb%20c%2Bd&x=")
    }

    // MARK: botocore

    static let botocoreDate = HTTPDate.epoch(year: 2024, month: 5, day: 17, hour: 9, minute: 30, second: 15)

    /// Output of `python3 Tests/integration/sigv4_crosscheck.py` (botocore 1.43.11,
    /// S3SigV4Auth, 2024-05-17T09:30:15Z): (host, path, query, region, Authorization).
    static let botocore: [(String, String, [(String, String)], String, String)] = [
        ("127.0.0.1:9000", "/bucket/data/file.txt", [], "us-east-1", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240517/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=309a926a65feb93c1ff508eb544d304c5974bd42faac4faf6e983ba111031cbe"),
        ("127.0.0.1:9000", "/bucket/q#?&<b> +=@'(1)%.txt", [], "us-east-1", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240517/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=443a6dbc703d8c64afe828a9d1db51d7d678b2b29ae1ee28440414bb2be5a87f"),
        ("s3.eu-west-1.amazonaws.com", "/bucket/ሴ/日本語 ключ", [], "eu-west-1", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240517/eu-west-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=4c82fbd3990a9a22f47c268b284926f57c9300fa200befe6e7ac59e3986ea5fe"),
        ("127.0.0.1:9000", "/bucket/a//b/./c", [], "us-east-1", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240517/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=5d140aa70ae7610e1f55e9bc9d8786bd21ebb60b1ce97b2be5d43728e4f73ce9"),
        ("bucket.s3.us-west-2.amazonaws.com", "/x~y_z-1.2", [], "us-west-2", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240517/us-west-2/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=f81c3b5ddd36e2dfca062a791475325524d3ca4df2647b99c536e7902e055e1d"),
        ("127.0.0.1:9000", "/bucket", [("list-type", "2"), ("prefix", "root/a b+c/"), ("delimiter", "/"), ("max-keys", "1000"), ("encoding-type", "url"), ("start-after", "root/ሴ")], "us-east-1", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240517/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=f9dd63e255aa50be9a36ed319a551ae3f649229cea8657e6574e2e24e7e595b0"),
        ("127.0.0.1:9000", "/bucket", [("list-type", "2"), ("continuation-token", "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM="), ("encoding-type", "url"), ("prefix", "")], "us-east-1", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240517/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=f21f6b4802e059d75df3e23b45fc5ab0e0f993df7e6a9b3520fad289beab676c"),
    ]

    @Test(arguments: botocore.indices)
    func s3RequestsSignAsBotocoreSignsThem(index: Int) {
        let (host, path, query, region, expected) = Self.botocore[index]
        let signer = SigV4(credentials: Self.example, region: region)
        let signed = signer.sign(method: "GET", host: host, path: path, query: query, date: Self.botocoreDate)
        #expect(signed.authorization == expected, "\(signed.canonicalRequest)")
        #expect(signed.headers.map(\.0) == ["Host", "x-amz-content-sha256", "x-amz-date", "Authorization"])
    }

    @Test func aSessionTokenIsSentAndSignedAsBotocoreDoes() {
        var credentials = Self.example
        credentials.sessionToken = "FQoGZXIvYXdzEXAMPLE//token+with/odd=chars"
        let signed = SigV4(credentials: credentials, region: "us-east-1")
            .sign(method: "GET", host: "127.0.0.1:9000", path: "/bucket/key", query: [], date: Self.botocoreDate)
        #expect(signed.authorization == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240517/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=48a93dccef984b4510ccb6d47b2969a903589e5ed6b830cdfa3e83a9b3650ee7")
        #expect(signed.headers.contains { $0 == ("x-amz-security-token", "FQoGZXIvYXdzEXAMPLE//token+with/odd=chars") })
    }

    @Test func amzDateIsCompactUTC() {
        #expect(SigV4.amzDate(Self.suiteDate) == "20150830T123600Z")
        #expect(SigV4.amzDate(0) == "19700101T000000Z")
    }
}
