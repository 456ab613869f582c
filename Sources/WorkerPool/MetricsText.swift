/// `PoolStats` as Prometheus text exposition format 0.0.4: every family with its HELP and TYPE
/// lines, series in a fixed order, label values escaped. Series whose count is zero are left
/// out (the table has thousands of cells; a series appears once it has happened), except the
/// ones a dashboard needs from the start (workers, restarts, cache, generation).
public enum MetricsText {
    /// The Content-Type of the exposition.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// The exposition of `stats` now.
    public static func render(_ stats: PoolStats) -> String {
        var out = ""
        out.reserveCapacity(4096)
        let names = stats.bucketNames()
        // Rows of one name are summed: a series must appear once.
        var rowsByName: [(name: String, rows: [Int])] = []
        var position: [String: Int] = [:]
        for (row, name) in names.enumerated() {
            guard let name else { continue }
            if let i = position[name] {
                rowsByName[i].rows.append(row)
            } else {
                position[name] = rowsByName.count
                rowsByName.append((name, [row]))
            }
        }

        family(&out, "x2s3_requests_total", "counter", "Requests answered by the workers, by operation, HTTP status and bucket.")
        for op in PoolStats.Operation.allCases {
            for slot in 0..<PoolStats.statusSlots {
                let status = slot < PoolStats.statuses.count ? String(PoolStats.statuses[slot]) : "other"
                for (name, rows) in rowsByName {
                    let n = rows.reduce(UInt64(0)) { $0 &+ stats.requests(row: $1, operation: op, statusSlot: slot) }
                    guard n > 0 else { continue }
                    sample(&out, "x2s3_requests_total", [("operation", op.name), ("status", status), ("bucket", name)], n)
                }
            }
        }

        family(&out, "x2s3_response_bytes_total", "counter", "Response body bytes the workers sent, by bucket.")
        for (name, rows) in rowsByName {
            let n = rows.reduce(UInt64(0)) { $0 &+ stats.bytes(row: $1) }
            if n > 0 { sample(&out, "x2s3_response_bytes_total", [("bucket", name)], n) }
        }

        family(&out, "x2s3_request_duration_seconds", "histogram",
               "Time from a worker taking a request to its last byte written, by operation.")
        for op in PoolStats.Operation.allCases {
            let h = stats.histogram(op)
            guard h.count > 0 else { continue }
            var cumulative: UInt64 = 0
            for (i, bound) in PoolStats.durationBounds.enumerated() {
                cumulative &+= h.buckets[i]
                sample(&out, "x2s3_request_duration_seconds_bucket", [("operation", op.name), ("le", number(bound))], cumulative)
            }
            cumulative &+= h.buckets[PoolStats.durationBounds.count]
            sample(&out, "x2s3_request_duration_seconds_bucket", [("operation", op.name), ("le", "+Inf")], cumulative)
            sample(&out, "x2s3_request_duration_seconds_sum", [("operation", op.name)],
                   text: number(Double(h.microseconds) / 1_000_000))
            sample(&out, "x2s3_request_duration_seconds_count", [("operation", op.name)], h.count)
        }

        family(&out, "x2s3_workers", "gauge", "Worker processes by state.")
        let workers = stats.workers()
        for state in PoolStats.WorkerState.allCases {
            sample(&out, "x2s3_workers", [("state", state.name)], UInt64(workers[state] ?? 0))
        }

        family(&out, "x2s3_worker_restarts_total", "counter", "Workers the pool leader replaced after they died or stopped making progress.")
        sample(&out, "x2s3_worker_restarts_total", [], stats.restarts)

        family(&out, "x2s3_upstream_errors_total", "counter", "Failed exchanges with S3 upstreams, by bucket and cause.")
        for (name, rows) in rowsByName {
            for cause in PoolStats.UpstreamCause.allCases {
                let n = rows.reduce(UInt64(0)) { $0 &+ stats.upstreamErrors(row: $1, cause: cause) }
                if n > 0 { sample(&out, "x2s3_upstream_errors_total", [("bucket", name), ("cause", cause.name)], n) }
            }
        }

        family(&out, "x2s3_listing_cache_hits_total", "counter", "Listings served from a worker's sorted-name cache or the shared index.")
        sample(&out, "x2s3_listing_cache_hits_total", [], stats.cacheHits)
        family(&out, "x2s3_listing_cache_misses_total", "counter", "Listings that read and sorted a directory.")
        sample(&out, "x2s3_listing_cache_misses_total", [], stats.cacheMisses)

        family(&out, "x2s3_config_generation", "gauge", "The pool's config generation: 0 at start, one more per reload (SIGHUP).")
        sample(&out, "x2s3_config_generation", [], stats.generation)
        return out
    }

    private static func family(_ out: inout String, _ name: String, _ type: String, _ help: String) {
        out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
    }

    private static func sample(_ out: inout String, _ name: String, _ labels: [(String, String)], _ value: UInt64) {
        sample(&out, name, labels, text: String(value))
    }

    private static func sample(_ out: inout String, _ name: String, _ labels: [(String, String)], text: String) {
        out += name
        if !labels.isEmpty {
            out += "{" + labels.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",") + "}"
        }
        out += " " + text + "\n"
    }

    /// A label value as the format wants it: `\`, `"` and newline escaped.
    static func escape(_ value: String) -> String {
        guard value.contains(where: { $0 == "\\" || $0 == "\"" || $0 == "\n" }) else { return value }
        var s = ""
        for c in value {
            switch c {
            case "\\": s += "\\\\"
            case "\"": s += "\\\""
            case "\n": s += "\\n"
            default: s.append(c)
            }
        }
        return s
    }

    /// A float as Go's strconv would print it for these values (no trailing `.0` for integers).
    static func number(_ v: Double) -> String {
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return String(v)
    }
}
