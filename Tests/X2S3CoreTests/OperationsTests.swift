import Logging
@testable import S3Protocol
@testable import Storage
import Testing
import WorkerPool
@testable import X2S3Core

@Suite struct OperationsTests {
    var config: Config = {
        var c = Config()
        c.targets = [Target(name: "mem", kind: .file(FileOptions(path: "/nonexistent"))),
                     Target(name: "hidden", browseable: false, kind: .file(FileOptions(path: "/nonexistent")))]
        c.baseURL = BaseURL(scheme: "https", host: "example.org", port: nil, path: "/")
        c.virtualBuckets = true
        return c
    }()

    func routed(_ uri: String, method: String = "GET", headers: [String: String] = [:], host: String = "localhost")
        -> (S3Request, RoutedRequest) {
        var p = params(uri, method: method, headers: headers)
        p["HTTP_HOST"] = host
        let request = try! S3Request.parse(params: p)
        return (request, Router.route(request, config: config))
    }

    @Test func healthAndMetricsAreRoutedOnTheBaseHostOnly() {
        #expect(routed("/_x2s3/health").1.route == .health)
        #expect(routed("/_x2s3/metrics", host: "example.org").1.route == .metrics)
        #expect(routed("/_x2s3/health", host: "www.example.org:8443").1.route == .health)
        guard case .object(_, let bucket, let key) = routed("/_x2s3/health", host: "mem.example.org").1.route else {
            Issue.record("not a key on a virtual host"); return
        }
        #expect(bucket == "mem" && key == "_x2s3/health")
        #expect(routed("/_x2s3/other").1.route == .error(.noSuchBucket(bucket: "_x2s3")))
        #expect(routed("/_x2s3/health", method: "PUT").1.route == .error(.methodNotAllowed(method: "PUT")))
    }

    @Test(arguments: [
        ("GET", "/mem/k", [:], PoolStats.Operation.getObject),
        ("HEAD", "/mem/k", [:], .headObject),
        ("GET", "/mem?list-type=2", [:], .listObjectsV2),
        ("GET", "/mem?list-type=2&max-keys=x", [:], .listObjectsV2),
        ("GET", "/hidden?list-type=2", [:], .listObjectsV2),
        ("GET", "/mem", [:], .listObjects),
        ("HEAD", "/mem", [:], .headBucket),
        ("GET", "/", [:], .listBuckets),
        ("GET", "/", ["HTTP_ACCEPT": "text/html"], .browse),
        ("GET", "/mem/dir/", ["HTTP_ACCEPT": "text/html"], .browse),
        ("GET", "/mem/k?preview", ["HTTP_ACCEPT": "text/html"], .preview),
        ("GET", "/mem?acl", [:], .getBucketAcl),
        ("GET", "/mem?location", [:], .getBucketLocation),
        ("GET", "/nosuch/k", [:], .getObject),
        ("HEAD", "/nosuch", [:], .headBucket),
        ("OPTIONS", "/mem/k", ["HTTP_ORIGIN": "https://a", "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "GET"], .preflight),
        ("OPTIONS", "/mem/k", [:], .preflight),
        ("PUT", "/mem/k", [:], .other),
        ("GET", "/robots.txt", [:], .other),
        ("GET", "/_x2s3/metrics", [:], .other),
    ] as [(String, String, [String: String], PoolStats.Operation)])
    func requestsAreCountedAsTheOperationTheyAskFor(method: String, uri: String, headers: [String: String],
                                                    expected: PoolStats.Operation) {
        let (request, r) = routed(uri, method: method, headers: headers)
        #expect(Dispatcher.operation(request, r) == expected)
    }

    func dispatcher(stats: PoolStats) -> Dispatcher {
        var d = Dispatcher(config: config, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        d.backends["mem"] = MemoryBackend(["a.txt": Array("hello world".utf8)])
        d.stats = stats
        return d
    }

    @Test func everyAnswerIsCountedAndUnknownBucketsUnderDash() throws {
        let stats = try PoolStats(buckets: 4, workerSlots: 1)
        var d = dispatcher(stats: stats)
        for uri in ["/mem/a.txt", "/MEM/a.txt", "/mem/nope", "/invented/a.txt", "/invented2/a.txt"] {
            var sink = RecordingSink()
            d.handle(params: params(uri), sink: &sink)
        }
        var sink = RecordingSink()
        d.handle(params: params("/_x2s3/metrics"), sink: &sink)
        #expect(sink.status == 200 && sink.header("Cache-Control") == "no-store")
        #expect(sink.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8")
        let text = sink.bodyText
        #expect(text.contains(#"x2s3_requests_total{operation="GetObject",status="200",bucket="mem"} 2"#))
        #expect(text.contains(#"x2s3_requests_total{operation="GetObject",status="404",bucket="mem"} 1"#))
        #expect(text.contains(#"x2s3_requests_total{operation="GetObject",status="404",bucket="-"} 2"#))
        #expect(text.contains(#"x2s3_response_bytes_total{bucket="mem"} "#))
        #expect(!text.contains("invented"))
    }

    @Test func metricsRefusedByTheAllowListAreS3XML403() throws {
        var d = dispatcher(stats: try PoolStats(buckets: 1, workerSlots: 1))
        var sink = RecordingSink()
        d.handle(params: params("/_x2s3/metrics", headers: [Dispatcher.metricsAllowedParam: "0"]), sink: &sink)
        #expect(sink.status == 403 && sink.bodyText.contains("<Code>AccessDenied</Code>"))
    }

    @Test func healthIsJSONNamingOnlyBrowseableTargets() throws {
        var d = dispatcher(stats: try PoolStats(buckets: 2, workerSlots: 1))
        var sink = RecordingSink()
        d.handle(params: params("/_x2s3/health"), sink: &sink)
        #expect(sink.status == 200 && sink.header("Cache-Control") == "no-store")
        let json = try #require(JSON.parse(sink.bodyText))
        #expect(json["status"]?.string == "ok")
        #expect(json["config"]?["generation"]?.int == 0)
        let targets = try #require(json["targets"]?.array)
        #expect(targets.count == 1 && targets[0]["name"]?.string == "mem")
        #expect(targets[0]["reachable"] == .bool(false) && targets[0]["cause"]?.string == "missing")
        #expect(json["hidden_targets"]?["count"]?.int == 1 && json["hidden_targets"]?["unreachable"]?.int == 1)
        d.shedding = true
        var shed = RecordingSink()
        d.handle(params: params("/_x2s3/health"), sink: &shed)
        #expect(shed.status == 503 && shed.header("Retry-After") == "1")
        #expect(JSON.parse(shed.bodyText)?["status"]?.string == "saturated")
    }

    @Test func aShedRequestIsCountedAsWhatItAskedFor() throws {
        let stats = try PoolStats(buckets: 2, workerSlots: 1)
        var d = dispatcher(stats: stats)
        d.shedding = true
        var sink = RecordingSink()
        d.handle(params: params("/mem/a.txt"), sink: &sink)
        #expect(sink.status == 503 && sink.bodyText.contains("<Code>SlowDown</Code>"))
        d.shedding = false
        var m = RecordingSink()
        d.handle(params: params("/_x2s3/metrics"), sink: &m)
        #expect(m.bodyText.contains(#"x2s3_requests_total{operation="GetObject",status="503",bucket="mem"} 1"#))
    }

    @Test func aTargetNamedLikeX2S3sOwnPathsIsRefused() {
        let e = configFailure("targets:\n  - {name: _X2s3, client: file, options: {path: /tmp}}\n")
        #expect(e?.contains("targets[0].name") == true && e?.contains("reserved") == true)
        #expect(configFailure("local_path: /tmp\nlocal_name: _x2s3\n")?.contains("local_name") == true)
    }
}
