@testable import Auth
import Logging
@testable import S3Protocol
@testable import Storage
import Testing
@testable import X2S3Core

/// Private targets end to end in memory: signed requests served with `Cache-Control: private`,
/// every refusal answered before any backend is opened, public targets never checked.
final class PrivateDispatchTests {
    let tree = TempTree().file("a.txt", size: 10).file("z/0.0", size: 3)
    static let now = HTTPDate.epoch(year: 2026, month: 1, day: 2, hour: 3, minute: 4, second: 5)

    var config: Config {
        var c = Config()
        c.targets = [Target(name: "lab", isPrivate: true, kind: .file(FileOptions(path: tree.path))),
                     Target(name: "pub", kind: .file(FileOptions(path: tree.path))),
                     Target(name: "other", isPrivate: true, kind: .file(FileOptions(path: "/nonexistent-x2s3")))]
        c.credentials = [Credential(accessKey: "AKLAB", secretKey: "lab-secret", buckets: ["lab"]),
                         Credential(accessKey: "AKOTHER", secretKey: "other-secret", buckets: ["other", "pub"])]
        return c
    }

    func dispatcher() -> Dispatcher {
        var d = Dispatcher(config: config, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        d.fixedNow = Self.now
        return d
    }

    /// Params of a request signed by x2s3's own signer, as nginx would pass them.
    func signed(_ path: String, query: [(String, String)] = [], ak: String = "AKLAB", secret: String = "lab-secret",
                at: Int64 = now, accept: String? = nil) -> [String: String] {
        let s = SigV4(credentials: .init(accessKey: ak, secretKey: secret), region: "us-east-1")
            .sign(method: "GET", host: "localhost:8080", path: path, query: query, date: at)
        var uri = SigV4.encodePath(path)
        if !query.isEmpty { uri += "?" + SigV4.canonicalQuery(query) }
        var p = params(uri)
        for (name, value) in s.headers where name != "Host" {
            p["HTTP_" + String(name.uppercased().map { $0 == "-" ? "_" : $0 })] = value
        }
        if let accept { p["HTTP_ACCEPT"] = accept }
        return p
    }

    func run(_ p: [String: String], _ d: inout Dispatcher) -> RecordingSink {
        var sink = RecordingSink()
        d.handle(params: p, sink: &sink)
        return sink
    }

    func code(_ r: RecordingSink) -> String? {
        guard let s = r.bodyText.firstRange(of: "<Code>"), let e = r.bodyText.firstRange(of: "</Code>") else { return nil }
        return String(r.bodyText[s.upperBound..<e.lowerBound])
    }

    @Test func aSignedRequestOfAnAllowedCredentialIsServedPrivately() {
        var d = dispatcher()
        let r = run(signed("/lab/a.txt"), &d)
        #expect(r.status == 200 && r.parsed.body == Array(repeating: 0x61, count: 10))
        #expect(r.header("Cache-Control") == "private")
        let chunk = run(signed("/lab/z/0.0"), &d)
        #expect(chunk.status == 200 && chunk.header("Cache-Control") == "private, max-age=86400")
        let list = run(signed("/lab", query: [("list-type", "2")]), &d)
        #expect(list.status == 200 && list.bodyText.contains("<Key>a.txt</Key>"))
    }

    @Test(arguments: [
        ("anonymous", "AccessDenied"), ("wrong secret", "SignatureDoesNotMatch"), ("unknown key", "InvalidAccessKeyId"),
        ("other bucket's key", "AccessDenied"), ("skewed", "RequestTimeTooSkewed"),
    ])
    func refusalsCostNoStorageAccess(what: String, expected: String) {
        var d = dispatcher()
        let p: [String: String] = switch what {
        case "anonymous": params("/lab/a.txt")
        case "wrong secret": signed("/lab/a.txt", secret: "nope")
        case "unknown key": signed("/lab/a.txt", ak: "AKNOBODY")
        case "other bucket's key": signed("/lab/a.txt", ak: "AKOTHER", secret: "other-secret")
        default: signed("/lab/a.txt", at: Self.now - 1000)
        }
        let r = run(p, &d)
        #expect(r.status == 403 && code(r) == expected, "\(r.bodyText)")
        #expect(r.header("Cache-Control") == "private")
        #expect(d.backends.isEmpty)
    }

    @Test func aRefusalComesBeforeTheBucketDirectoryIsOpened() {
        var d = dispatcher()
        // The target's directory does not exist: a refusal must come before opening it.
        let r = run(signed("/other/k", ak: "AKOTHER", secret: "wrong"), &d)
        #expect(code(r) == "SignatureDoesNotMatch" && d.backends.isEmpty)
    }

    @Test func publicTargetsNeverCheckSignatures() {
        var d = dispatcher()
        for p in [signed("/pub/a.txt", secret: "nope"), signed("/pub/a.txt", ak: "AKNOBODY"), params("/pub/a.txt")] {
            let r = run(p, &d)
            #expect(r.status == 200 && r.header("Cache-Control") == nil)
        }
    }

    @Test func theBucketListShowsOnlyThePrivateBucketsTheRequestMayRead() {
        var d = dispatcher()
        let anonymous = run(params("/"), &d).bodyText
        #expect(anonymous.contains("<Name>pub</Name>") && !anonymous.contains("<Name>lab</Name>") && !anonymous.contains("<Name>other</Name>"))
        let lab = run(signed("/"), &d)
        #expect(lab.bodyText.contains("<Name>lab</Name>") && lab.bodyText.contains("<Name>pub</Name>") && !lab.bodyText.contains("<Name>other</Name>"))
        #expect(lab.header("Cache-Control") == "private")
        let wrong = run(signed("/", secret: "nope"), &d)
        #expect(wrong.status == 200 && !wrong.bodyText.contains("<Name>lab</Name>"))
        let html = run(params("/", headers: ["HTTP_ACCEPT": "text/html"]), &d).bodyText
        #expect(html.contains("pub") && !html.contains("/lab/"))
        let signedHTML = run(signed("/", accept: "text/html"), &d).bodyText
        #expect(signedHTML.contains("/lab/"))
    }

    @Test func preflightsAreAnsweredWithoutSignaturesAndAllowTheSigningHeaders() {
        var d = dispatcher()
        let r = run(params("/lab/a.txt", method: "OPTIONS", headers: [
            "HTTP_ORIGIN": "https://viewer.example", "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "GET",
            "HTTP_ACCESS_CONTROL_REQUEST_HEADERS": "authorization,x-amz-date,x-amz-content-sha256,x-amz-security-token,range",
        ]), &d)
        #expect(r.status == 204)
        #expect(r.header("Access-Control-Allow-Headers") == "authorization,x-amz-date,x-amz-content-sha256,x-amz-security-token,range")
    }

    @Test func aWorkerCopiesEveryParamOnlyForSignedRequests() {
        #expect(Dispatcher.needsAllParams(["HTTP_AUTHORIZATION": "x"]))
        // No list: it fails verification whatever the headers.
        #expect(!Dispatcher.needsAllParams(["REQUEST_URI": "/b/k?X-Amz-Signature=1"]))
        #expect(!Dispatcher.needsAllParams(["REQUEST_URI": "/b/k?prefix=a"]))
        // What botocore, the AWS CLI and rclone sign is among the params a worker copies anyway.
        let boto = "AWS4-HMAC-SHA256 Credential=AK/20260102/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=00"
        #expect(!Dispatcher.needsAllParams(["HTTP_AUTHORIZATION": boto]))
        #expect(Dispatcher.needsAllParams(["HTTP_AUTHORIZATION": boto.replacing("host;", with: "host;x-lab-tag;")]))
        #expect(!Dispatcher.needsAllParams(["REQUEST_URI": "/b/k?X-Amz-Signature=1&X-Amz-SignedHeaders=host"]))
        #expect(Dispatcher.needsAllParams(["REQUEST_URI": "/b/k?X-Amz-Signature=1&X-Amz-SignedHeaders=host%3Bx-lab-tag"]))
        #expect(!Dispatcher.needsAllParams(["REQUEST_URI": "/b/k", "QUERY_STRING": "X-Amz-SignedHeaders=host"]))
        // A client header that shares a name with one nginx sets is not the parser's to give.
        #expect(Dispatcher.needsAllParams(["HTTP_AUTHORIZATION": boto.replacing("host;", with: "host;x2s3-offload;")]))
        for name in ["HTTP_AUTHORIZATION", "HTTP_X_AMZ_DATE", "HTTP_X_AMZ_CONTENT_SHA256", "HTTP_X_AMZ_SECURITY_TOKEN"] {
            #expect(Dispatcher.paramNames.contains(name))
        }
    }

    @Test(arguments: [("public, max-age=86400", "private, max-age=86400"), ("no-cache", "private, no-cache"),
                      ("public, s-maxage=60, max-age=10", "private, max-age=10"), ("private", "private")])
    func privateAnswersDropSharedCachingDirectives(given: String, expected: String) {
        var head = ResponseHead(status: 200, headers: [("Cache-Control", given)])
        Dispatcher.makePrivate(&head)
        #expect(head.value(of: "Cache-Control") == expected)
    }
}
