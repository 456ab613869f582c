import Glibc
import Testing
import WorkerPool

@Suite struct PoolStatsTests {
    func samples(_ stats: PoolStats) -> [String: String] {
        var out: [String: String] = [:]
        for line in MetricsText.render(stats).split(separator: "\n") where !line.hasPrefix("#") {
            let space = line.lastIndex(of: " ")!
            out[String(line[..<space])] = String(line[line.index(after: space)...])
        }
        return out
    }

    @Test func requestsCountUnderOperationStatusAndBucket() throws {
        let stats = try PoolStats(buckets: 4, workerSlots: 2)
        let data = stats.bucketRow(for: "data")
        #expect(data != 0 && stats.bucketRow(for: "data") == data)
        #expect(stats.bucketRow(for: "other") != data)
        stats.record(.getObject, status: 200, bucketRow: data, bytes: 10, microseconds: 300)
        stats.record(.getObject, status: 200, bucketRow: data, bytes: 5, microseconds: 2_000_000)
        stats.record(.headObject, status: 404, bucketRow: 0, bytes: 0, microseconds: 1)
        stats.record(.other, status: 418, bucketRow: data, bytes: 0, microseconds: 1)
        let s = samples(stats)
        #expect(s[#"x2s3_requests_total{operation="GetObject",status="200",bucket="data"}"#] == "2")
        #expect(s[#"x2s3_requests_total{operation="HeadObject",status="404",bucket="-"}"#] == "1")
        #expect(s[#"x2s3_requests_total{operation="Other",status="other",bucket="data"}"#] == "1")
        #expect(s[#"x2s3_response_bytes_total{bucket="data"}"#] == "15")
        #expect(s[#"x2s3_response_bytes_total{bucket="-"}"#] == nil, "a zero series is left out")
        // Cumulative buckets: 300 µs ≤ 1 ms; 2 s ≤ 2.5 s.
        #expect(s[#"x2s3_request_duration_seconds_bucket{operation="GetObject",le="0.001"}"#] == "1")
        #expect(s[#"x2s3_request_duration_seconds_bucket{operation="GetObject",le="1"}"#] == "1")
        #expect(s[#"x2s3_request_duration_seconds_bucket{operation="GetObject",le="2.5"}"#] == "2")
        #expect(s[#"x2s3_request_duration_seconds_bucket{operation="GetObject",le="+Inf"}"#] == "2")
        #expect(s[#"x2s3_request_duration_seconds_sum{operation="GetObject"}"#] == "2.0003")
        #expect(s[#"x2s3_request_duration_seconds_count{operation="GetObject"}"#] == "2")
    }

    @Test func aFullTableOrAnOverlongNameCountsUnderDash() throws {
        let stats = try PoolStats(buckets: 2, workerSlots: 1)
        #expect(stats.bucketRow(for: "a") == 1 && stats.bucketRow(for: "b") == 2)
        #expect(stats.bucketRow(for: "c") == 0)
        #expect(stats.bucketRow(for: String(repeating: "x", count: PoolStats.maxNameBytes + 1)) == 0)
        #expect(stats.bucketRow(for: "") == 0)
    }

    @Test func labelValuesAreEscaped() throws {
        let stats = try PoolStats(buckets: 1, workerSlots: 1)
        stats.record(.getObject, status: 200, bucketRow: stats.bucketRow(for: "a\"b\\c\nd"), bytes: 1, microseconds: 1)
        #expect(MetricsText.render(stats).contains(#"bucket="a\"b\\c\nd"} 1"#))
    }

    @Test func everyFamilyHasHelpAndTypeOnce() throws {
        let stats = try PoolStats(buckets: 1, workerSlots: 1)
        stats.recordUpstreamError(.tls, bucketRow: stats.bucketRow(for: "up"))
        let text = MetricsText.render(stats)
        let lines = text.split(separator: "\n")
        for family in ["x2s3_requests_total", "x2s3_response_bytes_total", "x2s3_request_duration_seconds", "x2s3_workers",
                       "x2s3_worker_restarts_total", "x2s3_upstream_errors_total", "x2s3_listing_cache_hits_total",
                       "x2s3_listing_cache_misses_total", "x2s3_config_generation"] {
            #expect(lines.filter { $0.hasPrefix("# TYPE \(family) ") }.count == 1, "\(family)")
            #expect(lines.filter { $0.hasPrefix("# HELP \(family) ") }.count == 1, "\(family)")
        }
        #expect(text.contains(#"x2s3_upstream_errors_total{bucket="up",cause="tls"} 1"#))
        #expect(text.hasSuffix("\n"))
    }

    @Test func countsMadeInAChildSurviveIt() throws {
        let stats = try PoolStats(buckets: 1, workerSlots: 1)
        let pid = fork()
        if pid == 0 {
            stats.record(.getObject, status: 200, bucketRow: 0, bytes: 7, microseconds: 1)
            _exit(0)
        }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        #expect(samples(stats)[#"x2s3_response_bytes_total{bucket="-"}"#] == "7")
    }

    @Test func processesMappingOneFileShareItsCountsAndANewShapeStartsAfresh() throws {
        let path = "/tmp/x2s3-poolstats-\(getpid())"
        defer { unlink(path) }
        let a = try PoolStats(buckets: 3, workerSlots: 2, path: path)
        let b = try PoolStats(buckets: 3, workerSlots: 2, path: path)
        let row = a.bucketRow(for: "data")
        #expect(b.bucketRow(for: "data") == row)
        a.record(.getObject, status: 206, bucketRow: row, bytes: 3, microseconds: 1)
        b.record(.getObject, status: 206, bucketRow: row, bytes: 4, microseconds: 1)
        b.recordWorkerRestart()
        a.generation = 5
        let c = try PoolStats(buckets: 3, workerSlots: 2, path: path)  // a restart keeps the counts
        #expect(samples(c)[#"x2s3_requests_total{operation="GetObject",status="206",bucket="data"}"#] == "2")
        #expect(samples(c)[#"x2s3_response_bytes_total{bucket="data"}"#] == "7")
        #expect(samples(c)["x2s3_worker_restarts_total"] == "1" && c.generation == 5)
        let d = try PoolStats(buckets: 5, workerSlots: 2, path: path)  // another shape: afresh
        #expect(samples(d)["x2s3_worker_restarts_total"] == "0")
        #expect(samples(d)[#"x2s3_response_bytes_total{bucket="data"}"#] == nil)
    }

    @Test func workerSlotsCountLiveWorkersByState() throws {
        let stats = try PoolStats(buckets: 1, workerSlots: 2)
        let mine = try #require(stats.claimWorkerSlot(pid: getpid()))
        mine.mark(.busy)
        #expect(stats.workers() == [.busy: 1])
        // A slot whose process is gone is neither counted nor kept from the next worker.
        let gone = try #require(stats.claimWorkerSlot(pid: Int32.max - 1))
        gone.mark(.idle)
        #expect(stats.workers() == [.busy: 1])
        #expect(stats.claimWorkerSlot(pid: getppid()) != nil)
        #expect(stats.claimWorkerSlot(pid: getppid()) == nil, "no slot left")
        mine.release()
        #expect(stats.workers()[.busy] == nil)
    }
}
