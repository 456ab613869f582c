@testable import Auth
import Logging
@testable import S3Protocol
@testable import Storage
import Testing
@testable import X2S3Core

/// Capability tokens and presigned URLs made by `x2s3 presign`, and the pages reached through a
/// capability link.
final class CapabilityTests {
    static let now: Int64 = 1_800_000_000
    static let lab = Credential(accessKey: "AKLAB", secretKey: "lab-secret", buckets: ["lab"])
    let tree = TempTree().file("ds/v2.zarr/.zattrs", size: 2).file("ds/v2.zarr/0.0", size: 4).file("ds/other.txt", size: 1)
        .file("top.txt", size: 1).dir("ds/v2.zarr/sub")

    func verify(_ token: String, bucket: String = "lab", key: String, now: Int64 = now,
                credentials: [Credential] = [lab]) -> Result<Capability, S3Error> {
        do {
            return .success(try Capability.verify(token: token, bucket: bucket, key: key, now: now) { ak in
                credentials.first { $0.accessKey == ak }
            })
        } catch {
            return .failure(error)
        }
    }

    var token: String { Capability(bucket: "lab", prefix: "ds/v2.zarr/", expires: Self.now + 600, accessKey: "AKLAB").token(secret: "lab-secret") }

    @Test func aTokenOpensEveryKeyUnderItsPrefixUntilItExpires() {
        for key in ["ds/v2.zarr/", "ds/v2.zarr/0.0", "ds/v2.zarr/a/b/c ሴ"] {
            #expect(verify(token, key: key) == .success(Capability(bucket: "lab", prefix: "ds/v2.zarr/", expires: Self.now + 600, accessKey: "AKLAB")))
        }
        #expect(verify(token, bucket: "LAB", key: "ds/v2.zarr/x") != .failure(.accessDenied))
        #expect(verify(token, key: "ds/v2.zarr/x", now: Self.now + 600) != .failure(.accessDenied))
        guard case .failure(.accessDeniedBecause("Request has expired", _)) = verify(token, key: "ds/v2.zarr/x", now: Self.now + 601) else {
            Issue.record("an expired token opened a key"); return
        }
    }

    @Test func nothingOutsideItsGrantOpens() {
        for key in ["ds/", "ds/v2.zarr", "ds/other.txt", "top.txt", "", "ds/v2.zarR/0.0"] {
            #expect(verify(token, key: key) == .failure(.accessDenied), "\(key)")
        }
        #expect(verify(token, bucket: "pub", key: "ds/v2.zarr/0.0") == .failure(.accessDenied))
        // The credential lost the bucket, or its secret rotated, or is gone: every token dies.
        #expect(verify(token, key: "ds/v2.zarr/0.0", credentials: [Credential(accessKey: "AKLAB", secretKey: "lab-secret", buckets: ["pub"])]) == .failure(.accessDenied))
        #expect(verify(token, key: "ds/v2.zarr/0.0", credentials: [Credential(accessKey: "AKLAB", secretKey: "rotated", buckets: nil)]) == .failure(.accessDenied))
        #expect(verify(token, key: "ds/v2.zarr/0.0", credentials: []) == .failure(.accessDenied))
    }

    @Test func anyChangedCharacterOfATokenIsRefused() {
        let t = Array(token)
        for i in t.indices {
            var u = t
            u[i] = u[i] == "A" ? "B" : "A"
            #expect(verify(String(u), key: "ds/v2.zarr/0.0") != .success(Capability(bucket: "lab", prefix: "ds/v2.zarr/", expires: Self.now + 600, accessKey: "AKLAB")))
        }
        for garbage in ["", "x", String(repeating: "A", count: 500), "!!!!", token + "A"] {
            #expect(verify(garbage, key: "ds/v2.zarr/0.0") == .failure(.accessDenied))
        }
    }

    @Test func aPublicBucketsPlainURLIsEncodedAsTheSignedOnes() {
        let base = BaseURL(scheme: "https", host: "data.example.org", port: 8443, path: "/s3/")
        #expect(Presigner.plainURL(base: base, bucket: "pub", key: "a b/ሴ+(1)%.txt")
                == "https://data.example.org:8443/s3/pub/a%20b/%E1%88%B4%2B%281%29%25.txt")
        #expect(Presigner.plainURL(base: BaseURL(scheme: "http", host: "h", port: nil, path: "/"), bucket: "pub", key: "k")
                == "http://h/pub/k")
    }

    @Test func presignedObjectURLsVerify() throws {
        let base = BaseURL(scheme: "https", host: "data.example.org", port: 8443, path: "/s3/")
        let url = Presigner.objectURL(base: base, bucket: "lab", key: "a b/ሴ+(1).txt", credential: Self.lab, now: Self.now, expires: 600)
        #expect(url.hasPrefix("https://data.example.org:8443/s3/lab/a%20b/%E1%88%B4%2B%281%29.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKLAB%2F"))
        let rest = url.dropFirst("https://data.example.org:8443".count)
        let q = try #require(rest.firstIndex(of: "?"))
        let request = SigV4Verifier.Request(method: "GET", rawPath: String(rest[..<q]), rawQuery: String(rest[rest.index(after: q)...]),
                                            headers: ["host": "data.example.org:8443"])
        var verifier = SigV4Verifier()
        #expect(try verifier.verify(request, now: Self.now + 600) { _ in Self.lab }?.accessKey == "AKLAB")
        #expect(throws: S3Error.self) { try verifier.verify(request, now: Self.now + 601) { _ in Self.lab } }
    }

    @Test(arguments: [("600", 600), ("90s", 90), ("30m", 1800), ("12h", 43200), ("7d", 604_800)] as [(String, Int64)])
    func expiresTakesUnits(text: String, seconds: Int64) {
        #expect(Presigner.parseExpires(text) == seconds)
    }

    @Test(arguments: ["", "0", "8d", "604801", "-5", "1w", "d", "1.5h"])
    func expiresRefusesWhatS3Would(text: String) {
        #expect(Presigner.parseExpires(text) == nil)
    }

    // MARK: through the dispatcher

    func dispatcher() -> Dispatcher {
        var c = Config()
        c.targets = [Target(name: "lab", isPrivate: true, kind: .file(FileOptions(path: tree.path)))]
        c.credentials = [Self.lab]
        var d = Dispatcher(config: c, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        d.fixedNow = Self.now
        return d
    }

    func get(_ uri: String, html: Bool = false) -> RecordingSink {
        var d = dispatcher()
        var sink = RecordingSink()
        d.handle(params: params(uri, headers: html ? ["HTTP_ACCEPT": "text/html"] : [:]), sink: &sink)
        return sink
    }

    @Test func aCapabilityLinkServesItsPrefixPrivatelyAndNothingElse() {
        let base = "/_x2s3/c/\(token)/lab/"
        let chunk = get(base + "ds/v2.zarr/0.0")
        #expect(chunk.status == 200 && chunk.parsed.body.count == 4 && chunk.header("Cache-Control") == "private, max-age=86400")
        #expect(get(base + "ds/v2.zarr/?list-type=2").status == 404)  // GetObject("ds/v2.zarr/"), as S3 answers it
        #expect(get("/_x2s3/c/\(token)/lab?list-type=2&prefix=ds%2Fv2.zarr%2F").status == 200)
        for outside in [base + "ds/other.txt", base + "top.txt", "/_x2s3/c/\(token)/lab?list-type=2", "/_x2s3/c/\(token)/",
                        base + "ds/v2.zarr/0.0?acl", "/lab/ds/v2.zarr/0.0", "/_x2s3/c/x\(token)/lab/ds/v2.zarr/0.0"] {
            let r = get(outside)
            #expect(r.status == 403 && r.bodyText.contains("<Code>AccessDenied</Code>"), "\(outside)")
        }
        #expect(get("/_x2s3/c/\(token)/static/x2s3.css").status == 200)
    }

    @Test func pagesReachedThroughACapabilityLinkLinkOnlyWithinIt() {
        let base = "/_x2s3/c/\(token)/lab/"
        let page = get(base + "ds/v2.zarr/", html: true)
        #expect(page.status == 200)
        let hrefs = page.bodyText.split(separator: "href=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
        #expect(!hrefs.isEmpty)
        for href in hrefs where !href.hasPrefix("#") && !href.hasPrefix("https://neuroglancer") && !href.hasPrefix("https://hms-dbmi") {
            #expect(href.hasPrefix(base + "ds/v2.zarr/") || href.hasPrefix(base + "?list-type=2&amp;delimiter=%2F&amp;prefix=ds%2Fv2.zarr%2F") || href.hasPrefix("/_x2s3/c/\(token)/static/")
                    || href.hasPrefix("/_x2s3/c/\(token)/favicon"), "\(href)")
        }
        #expect(page.bodyText.contains("<span>Buckets</span>") && page.bodyText.contains("<span>ds</span>"))
        #expect(page.bodyText.contains("http://localhost:8080" + base + "ds/v2.zarr"))
        let sub = get(base + "ds/v2.zarr/sub/", html: true).bodyText
        #expect(sub.contains("href=\"\(base)ds/v2.zarr/\""))
    }

    @Test func theCapabilityPathIsAKeyOnABucketsOwnHost() {
        var c = Config()
        c.virtualBuckets = true
        c.baseURL = BaseURL(scheme: "http", host: "x2s3.test", port: nil, path: "/")
        c.targets = [Target(name: "lab", kind: .file(FileOptions(path: tree.path)))]
        let onBase = Router.route(try! S3Request.parse(params: params("/_x2s3/c/TOKEN/lab/k")), config: c)
        #expect(onBase.capability == "TOKEN" && onBase.route == .object(target: c.targets[0], bucket: "lab", key: "k"))
        var p = params("/_x2s3/c/TOKEN/lab/k")
        p["HTTP_HOST"] = "lab.x2s3.test"
        let onBucket = Router.route(try! S3Request.parse(params: p), config: c)
        #expect(onBucket.capability == nil && onBucket.route == .object(target: c.targets[0], bucket: "lab", key: "_x2s3/c/TOKEN/lab/k"))
    }
}
