import Glibc
import HTTPClient
import Posix
@testable import S3Protocol
@testable import Storage
import Testing
import WorkerPool
@testable import X2S3Core

/// Writes and removes small files for credential tests.
enum TempFiles {
    struct Failed: Error {}

    static func write(_ files: [String: String]) throws {
        for (path, text) in files {
            let dir = String(path[..<path.lastIndex(of: "/")!])
            mkdir(dir, 0o700)
            guard let f = fopen(path, "w") else { throw Failed() }
            fputs(text, f)
            fclose(f)
        }
    }

    static func remove(_ dir: String, _ names: [String]) {
        for n in names { unlink("\(dir)/\(n)") }
        rmdir(dir)
    }
}

/// The pure parts of the S3 backend: error table, addressing and signing of requests, range
/// headers, and the mapping of upstream listing pages. The live exchange is covered by
/// Tests/integration/test_s3_upstream.py against moto.
@Suite struct S3BackendTests {
    func backend(_ configure: (inout S3Options) -> Void = { _ in }) throws -> S3Backend {
        var o = S3Options(bucket: "up-bucket")
        o.endpoint = "http://127.0.0.1:9000"
        configure(&o)
        return try S3Backend(bucket: "Data", options: o)
    }

    // MARK: errors

    @Test(arguments: [
        (404, "NoSuchKey", "k", S3Error.noSuchKey(key: "k")),
        (404, nil, "k", .noSuchKey(key: "k")),  // HEAD misses have no body
        (403, nil, "k", .accessDenied),
        (403, "SignatureDoesNotMatch", "k", .accessDenied),
        (403, "InvalidAccessKeyId", nil, .accessDenied),
        (404, "NoSuchBucket", "k", .badGateway("The upstream bucket of this target does not exist.")),
        (404, "NoSuchBucket", nil, .badGateway("The upstream bucket of this target does not exist.")),
        (404, nil, nil, .badGateway("The upstream storage answered 404 for a listing.")),
        (412, "PreconditionFailed", "k", .preconditionFailed(condition: "If-Match")),
        (304, nil, "k", .badGateway("The upstream storage answered 304 to an unconditional request.")),
        (404, "Teapot", "k", .upstream(status: 404, code: "Teapot", message: "m")),  // an unknown code is not a miss
        (400, nil, nil, .upstream(status: 400, code: "UpstreamError", message: "Unknown error")),
        (503, "SlowDown", "k", .slowDown("m")),
        (400, "InvalidArgument", nil, .upstream(status: 400, code: "InvalidArgument", message: "m")),
        (500, nil, "k", .upstream(status: 500, code: "InternalError", message: "Unknown error")),
        (501, "NotImplemented", "k", .upstream(status: 501, code: "NotImplemented", message: "m")),
    ] as [(Int, String?, String?, S3Error)])
    func upstreamErrorsMapToClientErrors(status: Int, code: String?, key: String?, expected: S3Error) {
        let message: String? = code == nil ? nil : "m"
        #expect(S3Backend.mapError(status: status, code: code, message: message, key: key) == expected)
    }

    @Test func transportFailuresMapToGatewayErrors() {
        #expect(S3Backend.map(.connectTimeout("x")).wire.status == 504)
        #expect(S3Backend.map(.stalled("x")).wire.status == 504)
        #expect(S3Backend.map(.connectFailed("x")).wire.status == 503)
        #expect(S3Backend.map(.transport("x")).wire.status == 502)
        #expect(S3Backend.map(.setup("x")).wire.status == 500)
    }

    @Test func everyTransportFailureNamesItsCause() {
        let table: [(HTTPClientError, PoolStats.UpstreamCause)] = [
            (.unresolved("x"), .dns), (.connectFailed("x"), .connect), (.tlsFailed("x"), .tls),
            (.connectTimeout("x"), .timeout), (.stalled("x"), .timeout), (.transport("x"), .protocol),
            (.invalidResponse("x"), .protocol), (.setup("x"), .other),
        ]
        for (error, cause) in table { #expect(S3Backend.map(error).upstreamCause == cause, "\(error)") }
        // An error status is a failure unless it is the answer the client asked for.
        #expect(S3Backend.statusFailure(status: 500, code: nil, message: nil, key: "k").upstreamCause == .status)
        #expect(S3Backend.statusFailure(status: 403, code: "AccessDenied", message: nil, key: "k").upstreamCause == .status)
        #expect(S3Backend.statusFailure(status: 404, code: "NoSuchBucket", message: nil, key: "k").upstreamCause == .status)
        #expect(S3Backend.statusFailure(status: 404, code: "NoSuchKey", message: nil, key: "k") == .noSuchKey(key: "k"))
        #expect(S3Backend.statusFailure(status: 412, code: nil, message: nil, key: "k").upstreamCause == nil)
    }

    @Test func libcurlsTextGoesToTheLogNotToTheClient() {
        let tls = "SSL certificate problem: unable to get local issuer certificate"
        let e = S3Backend.map(.connectFailed(tls))
        #expect(e.wire == S3Error.serviceUnavailable("The upstream storage is unreachable.").wire)
        #expect(e.logDetail == "upstream: " + tls)
        #expect(S3Backend.map(.connectFailed("")).logDetail == nil)
        #expect(S3Error.accessDenied.logDetail == nil)
    }

    // MARK: ranges

    @Test(arguments: [(ByteRangeRequest.closed(0, 99), "bytes=0-99"), (.from(7), "bytes=7-"), (.suffix(500), "bytes=-500")])
    func theClientRangeIsReserialised(range: ByteRangeRequest, header: String) {
        #expect(S3Backend.rangeHeader(range) == header)
    }

    @Test func contentRangeGivesThePartAndTheFullSize() {
        #expect(S3Backend.parseContentRange("bytes 10-19/100")! == (10..<20, 100))
        #expect(S3Backend.parseContentRange("bytes 0-0/1")! == (0..<1, 1))
        for bad in ["bytes */100", "bytes 10-19/*", "bytes 20-10/100", "bytes 0-100/100", "items 0-1/2", ""] {
            #expect(S3Backend.parseContentRange(bad) == nil, "\(bad)")
        }
    }

    // MARK: addressing and signing

    @Test func pathStyleRequestsCarryBucketRootAndEncodedKey() throws {
        let b = try backend { $0.prefix = "/base/dir/" }
        let (url, headers) = b.request(method: "GET", key: "a b/ሴ+?#", query: [], headers: [("Range", "bytes=0-1")], date: 0)
        #expect(url == "http://127.0.0.1:9000/up-bucket/base/dir/a%20b/%E1%88%B4%2B%3F%23")
        #expect(headers.map(\.0) == ["Host", "Range"])  // anonymous: unsigned
        #expect(headers[0].1 == "127.0.0.1:9000")
    }

    @Test func listingsAddressTheBucketWithASortedQuery() throws {
        let b = try backend()
        let (url, _) = b.request(method: "GET", key: nil, query: [("prefix", "a/"), ("list-type", "2")], headers: [], date: 0)
        #expect(url == "http://127.0.0.1:9000/up-bucket?list-type=2&prefix=a%2F")
    }

    @Test func awsDefaultsToVirtualHostsForDNSNamesAndPathStyleOtherwise() throws {
        let aws = try backend { $0.endpoint = nil; $0.region = "eu-west-1" }
        #expect(aws.request(method: "GET", key: "k", query: [], headers: [], date: 0).0 == "https://up-bucket.s3.eu-west-1.amazonaws.com/k")
        let dotted = try backend { $0.endpoint = nil; $0.bucket = "my.bucket" }
        #expect(dotted.request(method: "GET", key: "k", query: [], headers: [], date: 0).0 == "https://s3.us-east-1.amazonaws.com/my.bucket/k")
        let forced = try backend { $0.addressingStyle = "virtual"; $0.endpoint = "https://store.example.org:443/" }
        let (url, headers) = forced.request(method: "GET", key: "k", query: [], headers: [], date: 0)
        #expect(url == "https://up-bucket.store.example.org/k")
        #expect(headers[0] == ("Host", "up-bucket.store.example.org"))
    }

    @Test func signedTargetsSendTheSignatureOfExactlyTheURLTheyRequest() throws {
        let dir = "/tmp/x2s3-s3backend-tests-\(WallClock.now())-\(Int.random(in: 0..<1_000_000))"
        try TempFiles.write(["\(dir)/ak": "AKIDEXAMPLE\n", "\(dir)/sk": "  wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\n"])
        defer { TempFiles.remove(dir, ["ak", "sk"]) }
        let b = try backend { $0.bucket = "bucket"; $0.accessKeyPath = "\(dir)/ak"; $0.secretKeyPath = "\(dir)/sk" }
        let date = HTTPDate.epoch(year: 2024, month: 5, day: 17, hour: 9, minute: 30, second: 15)
        let (url, headers) = b.request(method: "GET", key: "data/file.txt", query: [], headers: [], date: date)
        #expect(url == "http://127.0.0.1:9000/bucket/data/file.txt")
        // Same request as the first botocore vector in SigV4Tests.
        #expect(headers.last?.0 == "Authorization")
        #expect(headers.last?.1 == SigV4Tests.botocore[0].4)
    }

    @Test func credentialProblemsNameTheFileForTheOperatorOnly() throws {
        var o = S3Options(bucket: "b")
        o.accessKeyPath = "/nonexistent/x2s3/ak"
        o.secretKeyPath = "/nonexistent/x2s3/sk"
        #expect { try S3Credentials.load(o) } throws: { "\($0)".contains("/nonexistent/x2s3/ak") }
        #expect(throws: S3Error.internalError("The credentials of this bucket are not configured properly.")) {
            try S3Backend(bucket: "b", options: o)
        }
        o.accessKeyPath = nil
        #expect { try S3Credentials.load(o) } throws: { "\($0)".contains("secret_key_path is set") }
        o.secretKeyPath = nil
        #expect(try S3Credentials.load(o) == nil)
    }

    @Test(arguments: [("http://h:9000", "http", "h:9000", ""), ("https://H.example:443/", "https", "h.example", ""),
                      ("http://h/base/", "http", "h", "/base"), ("http://h:80", "http", "h", "")])
    func endpointsSplitIntoSchemeAuthorityAndBase(url: String, scheme: String, authority: String, base: String) {
        let e = Endpoint(url)
        #expect(e?.scheme == scheme && e?.authority == authority && e?.basePath == base)
    }

    @Test(arguments: ["ftp://h", "h:9000", "http://", "http://u:p@h", "http://h:99999"])
    func badEndpointsAreRefused(url: String) { #expect(Endpoint(url) == nil) }

    // MARK: listing pages

    func upstreamPage(_ keys: [String], _ prefixes: [String] = [], truncated: Bool = false, token: String? = nil) -> ListObjectsV2Parser.Result {
        var r = ListObjectsV2Parser.Result()
        r.objects = keys.map { ListObjectsV2Parser.Object(key: $0, size: 3, lastModified: 100, etag: "\"e\"", storageClass: "GLACIER") }
        r.commonPrefixes = prefixes
        r.isTruncated = truncated
        r.nextContinuationToken = token
        return r
    }

    @Test func theRootIsStrippedFromKeysAndPrefixesAndETagsAreDerivedUnlessProxied() throws {
        let b = try backend { $0.prefix = "root" }
        var q = ListQuery(version: .v2)
        q.delimiter = "/"
        let page = try b.page(from: upstreamPage(["root/a", "root//b", "elsewhere/c"], ["root/d/"]), query: q, floor: nil)
        #expect(page.objects.map(\.key) == ["a", "/b"])
        #expect(page.commonPrefixes == ["d/"])
        let derived = UpstreamETag.validator("\"e\"", proxy: false, size: 3, lastModified: 100)
        #expect(page.objects.allSatisfy { $0.etag == derived && $0.storageClass == "GLACIER" && $0.lastModified.seconds == 100 })
        let proxied = try backend { $0.prefix = "root"; $0.proxyETag = true }
        #expect(try proxied.page(from: upstreamPage(["root/a"]), query: q, floor: nil).objects[0].etag == "\"e\"")
    }

    @Test func continuationTokensAreWrappedForThisListingOnly() throws {
        let b = try backend { $0.prefix = "root" }
        var q = ListQuery(version: .v2)
        q.prefix = "p"
        let page = try b.page(from: upstreamPage(["root/p1"], truncated: true, token: "/root/opaque=="), query: q, floor: nil)
        let token = try #require(page.nextContinuationToken)
        #expect(token != "/root/opaque==")
        #expect(try UpstreamToken.unwrap(token, bucket: "data", prefix: "p", delimiter: nil) == "/root/opaque==")
        #expect(throws: S3Error.self) { try b.page(from: upstreamPage(["root/p1"], truncated: true), query: q, floor: nil) }
    }

    @Test func entriesNotAfterTheMarkerAreDroppedAndV1GetsNextMarkerWithADelimiter() throws {
        let b = try backend { $0.prefix = "root" }
        var q = ListQuery(version: .v1)
        q.delimiter = "/"
        q.marker = "dir/"
        let page = try b.page(from: upstreamPage(["root/e"], ["root/dir/", "root/f/"], truncated: true), query: q, floor: "root/dir/")
        #expect(page.commonPrefixes == ["f/"])
        #expect(page.objects.map(\.key) == ["e"])
        #expect(page.nextMarker == "f/")
        q.delimiter = nil
        #expect(try b.page(from: upstreamPage(["root/e"], truncated: true), query: q, floor: nil).nextMarker == nil)
    }
}
