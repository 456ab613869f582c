import FastCGI
import Glibc
import Logging
import WorkerPool
import X2S3Core

/// One worker process: accept, copy params, dispatch, finish, until a shutdown signal or a
/// failure to accept. Synchronous, one request at a time, no threads.
enum Worker {
    /// Runs the accept loop on `listenFD` and returns the process exit code: 0 after a shutdown
    /// signal (the in-flight request is always finished first), 1 when accepting fails.
    /// In a supervised pool, `row` is this worker's scoreboard row (nil under spawn-fcgi); a
    /// `shedding` worker answers every request 503 SlowDown and keeps no connection, so nginx
    /// sends nothing more its way once the pool has room again.
    /// `stats` are the pool-wide counters this worker adds to and answers metrics from.
    static func run(listenFD: Int32, config: Config, logger: Logger, stats: PoolStats?, row: WorkerRow? = nil,
                    shedding: Bool = false) -> Int32 {
        var logger = logger
        logger[metadataKey: "pid"] = "\(getpid())"
        if shedding { logger[metadataKey: "role"] = "shedding" }
        let slot = stats?.claimWorkerSlot(pid: getpid())
        if stats != nil, slot == nil { logger.warning("no free worker slot in the pool's counters: this worker is not shown in x2s3_workers") }
        defer { slot?.release() }
        let idle: PoolStats.WorkerState = shedding ? .shedding : .idle
        let busy: PoolStats.WorkerState = shedding ? .shedding : .busy
        do {
            try WorkerSignals.install()
            var request = try FastCGIRequest(listenFD: listenFD)
            var dispatcher = Dispatcher(config: config, logger: logger)
            dispatcher.shedding = shedding
            dispatcher.stats = stats
            logger.debug("worker ready")
            while true {
                row?.markIdle()
                slot?.mark(idle)
                guard try request.accept() else { break }
                row?.markBusy()
                slot?.mark(busy)
                let params = request.params(only: .x2s3)
                let complete = request.withOutput { output in
                    var sink = FastCGISink(output: output, row: row)
                    return dispatcher.handle(params: params, sink: &sink) { request.everyParam() }
                }
                // A response cut after its head must reach the client as a cut, not as a
                // finished request with a short body.
                if complete { request.finish(keepConnection: !shedding) } else { request.abandon() }
            }
            logger.debug("worker stopping: shutdown requested")
            return 0
        } catch {
            logger.error("worker stopping", metadata: ["error": "\(error)"])
            return 1
        }
    }

    /// Answers the one request of a CGI invocation (params = the environment, body to stdout).
    static func runCGI(environment: [String: String], config: Config, logger: Logger) {
        ProcessControl.ignore(SIGPIPE)  // a reader that goes away must not kill us mid-write
        var dispatcher = Dispatcher(config: config, logger: logger)
        // One request, one process: its own counts (metrics over CGI show only this request's).
        dispatcher.stats = try? PoolStats(buckets: PoolStats.bucketCapacity(config), workerSlots: 1)
        var sink = CGISink()
        // No nginx behind a CGI server to take an X-Accel-Redirect: never offload here, even if
        // the environment happens to carry the variable.
        var environment = environment
        environment["X2S3_OFFLOAD"] = nil
        dispatcher.handle(params: environment, sink: &sink)
    }
}
