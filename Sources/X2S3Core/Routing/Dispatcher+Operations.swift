import HTTPClient
import Posix
import S3Protocol
import Storage
import WorkerPool

/// x2s3's own answers for operators: `/_x2s3/health`, `/_x2s3/metrics`, and the counting of
/// every request into the pool-wide table they read.
extension Dispatcher {
    /// The param nginx sets to `0` for a client outside the metrics allow-list
    /// (nginx.conf.template's `geo`); absent means allowed. A param, so no client can forge it.
    public static let metricsAllowedParam = "X2S3_METRICS_ALLOWED"
    /// How long a target's reachability, once probed, is reported without probing again.
    static let probeTTLMilliseconds: Int64 = 10_000
    /// A probe's connect and read timeout: health must answer a load balancer's check in time
    /// even when an upstream swallows packets.
    static let probeTimeout = 2.0

    /// The `operation` label of a request as it was routed. Errors decided by the router are
    /// counted as the operation the request asked for (a GET of a missing bucket's key is a
    /// GetObject), so error rates per operation are right.
    static func operation(_ request: S3Request, _ routed: RoutedRequest) -> PoolStats.Operation {
        let head = request.method == "HEAD"
        switch routed.route {
        case .object: return head ? .headObject : .getObject
        case .listObjects(_, _, let query): return head ? .headBucket : query.version == .v2 ? .listObjectsV2 : .listObjects
        case .browse: return .browse
        case .preview: return .preview
        case .listBuckets(let html): return html ? .browse : .listBuckets
        case .acl: return .getBucketAcl
        case .location: return .getBucketLocation
        case .preflight: return .preflight
        case .robots, .asset, .health, .metrics: return .other
        case .error:
            if request.method == "OPTIONS" { return .preflight }
            guard head || request.method == "GET", routed.bucket != nil else { return .other }
            if request.hasQuery("acl") { return .getBucketAcl }
            if request.hasQuery("location") { return .getBucketLocation }
            if routed.hasKey { return head ? .headObject : .getObject }
            if head { return .headBucket }
            return request.queryValue("list-type") != nil ? .listObjectsV2 : .listObjects
        }
    }

    /// Adds one answered request to the pool's counters (and this worker's listing-cache
    /// activity since the last request). Buckets count under their configured name; a name
    /// no target has counts under `-`, so clients cannot grow the table.
    mutating func count(_ request: S3Request, _ routed: RoutedRequest, status: Int, bytes: Int, microseconds: Int64,
                        upstreamCause: PoolStats.UpstreamCause?) {
        guard let stats else { return }
        var row = 0
        // The routed target when there is one; an error route knows only the name asked for.
        if let name = routed.route.target?.name ?? routed.bucket.flatMap({ config.target(named: $0)?.name }) {
            if let known = bucketRows[name] {
                row = known
            } else {
                row = stats.bucketRow(for: name)
                bucketRows[name] = row
            }
        }
        stats.record(Self.operation(request, routed), status: status, bucketRow: row, bytes: UInt64(max(0, bytes)),
                     microseconds: UInt64(max(0, microseconds)))
        if let upstreamCause { stats.recordUpstreamError(upstreamCause, bucketRow: row) }
        let hits = listCache.hits, misses = listCache.loads
        if hits != reportedCache.hits || misses != reportedCache.misses {
            stats.recordListingCache(hits: UInt64(hits - reportedCache.hits), misses: UInt64(misses - reportedCache.misses))
            reportedCache = (hits, misses)
        }
    }

    /// `/_x2s3/metrics`: the exposition, unless nginx says the client is not allowed.
    func metrics(_ params: [String: String]) throws(S3Error) -> Response {
        guard params[Self.metricsAllowedParam] != "0" else { throw .accessDenied }
        let text = stats.map(MetricsText.render) ?? ""
        var r = Response(status: 200, contentType: MetricsText.contentType, body: Array(text.utf8))
        r.head.add("Cache-Control", "no-store")
        return r
    }

    /// `/_x2s3/health`: 200 with the pool's workers, the config generation and each target's
    /// reachability (an unreachable upstream is reported, not a failure of the gateway); 503
    /// only when the pool cannot serve: answered by the process standing in for it while every
    /// worker is busy (`shedding`), or after waiting longer than `max_wait` for a worker.
    /// Targets hidden from listings are summed up, not named: the endpoint is public.
    mutating func health(_ params: [String: String]) -> Response {
        let saturated = shedding || waitedTooLong(params)
        var workers: [String] = []
        let counts = stats?.workers() ?? [:]
        for state in PoolStats.WorkerState.allCases { workers.append("\(JSON.quote(state.name)):\(counts[state] ?? 0)") }
        var targets: [String] = []
        var hidden = 0, hiddenUnreachable = 0
        for target in config.targets {
            let probe = saturated ? nil : reachability(of: target)
            guard target.browseable else {
                hidden += 1
                if probe?.reachable == false { hiddenUnreachable += 1 }
                continue
            }
            var fields = ["\"name\":\(JSON.quote(target.name))"]
            fields.append("\"kind\":\"\(target.healthKind)\"")
            if let probe {
                fields.append("\"reachable\":\(probe.reachable)")
                if let status = probe.status { fields.append("\"status\":\(status)") }
                if let cause = probe.cause { fields.append("\"cause\":\(JSON.quote(cause))") }
            }
            targets.append("{" + fields.joined(separator: ",") + "}")
        }
        let status = saturated ? "saturated" : "ok"
        let body = "{\"status\":\(JSON.quote(status)),\"pool\":{\"workers\":{\(workers.joined(separator: ","))}},"
            + "\"config\":{\"generation\":\(stats?.generation ?? 0)},\"targets\":[\(targets.joined(separator: ","))],"
            + "\"hidden_targets\":{\"count\":\(hidden),\"unreachable\":\(hiddenUnreachable)}}\n"
        var r = Response(status: saturated ? 503 : 200, contentType: "application/json", body: Array(body.utf8))
        if saturated { r.head.add("Retry-After", "1") }
        r.head.add("Cache-Control", "no-store")
        return r
    }

    /// Whether a target's storage answers: a file target's root opens; an S3 target's
    /// endpoint answers a HeadBucket (any HTTP answer: a 403 is reachable, with its status).
    /// Probes are remembered for `probeTTLMilliseconds`, so frequent checks cost no upstream
    /// traffic.
    mutating func reachability(of target: Target) -> Probe {
        let now = MonotonicClock.nowMilliseconds()
        let key = target.name.lowercased()
        if let known = probes[key], now - known.at < Self.probeTTLMilliseconds { return known }
        var probe: Probe
        switch target.kind {
        case .file(let options):
            let open = (try? FileDescriptor.openDirectory(options.configuredPath)) != nil
            probe = Probe(reachable: open, status: nil, cause: open ? nil : "missing", at: now)
        case .s3(let options):
            probe = S3Backend.probe(bucket: target.name, options: options, timeout: Self.probeTimeout)
            probe.at = now
        }
        probes[key] = probe
        return probe
    }

    /// A target's last reachability probe.
    struct Probe {
        var reachable: Bool
        /// The upstream's HTTP status, when it answered.
        var status: Int?
        /// Why it is not reachable (an upstream cause's name, or `missing` for a file root).
        var cause: String?
        var at: Int64 = 0
    }
}

extension S3Backend {
    /// One HeadBucket with short timeouts and no retry, on a client of its own (the backend's
    /// keeps the target's long timeouts for real requests).
    static func probe(bucket: String, options: S3Options, timeout: Double) -> Dispatcher.Probe {
        var short = options
        short.connectTimeout = min(options.connectTimeout, timeout)
        short.readTimeout = min(options.readTimeout, timeout)
        short.maxAttempts = 1
        let backend: S3Backend
        do {
            backend = try S3Backend(bucket: bucket, options: short)
        } catch {
            return Dispatcher.Probe(reachable: false, status: nil, cause: PoolStats.UpstreamCause.other.name)
        }
        do {
            let r = try backend.exchange(method: "HEAD", key: nil)
            let status = r.status
            return Dispatcher.Probe(reachable: true, status: status,
                                    cause: status >= 400 ? PoolStats.UpstreamCause.status.name : nil)
        } catch {
            return Dispatcher.Probe(reachable: false, status: nil, cause: (error.upstreamCause ?? .other).name)
        }
    }
}
