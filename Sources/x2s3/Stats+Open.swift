import WorkerPool
import X2S3Core

extension PoolStats {
    /// Worker slots in every table: enough for the largest pool's two generations (a reload
    /// overlaps them) plus its shedder, so processes sharing a file always agree on its shape.
    static let workerCapacity = 2 * 1024 + 8

    /// Bucket rows for `config`: room to spare for targets added by later reloads, in powers of
    /// two so a `metrics_file` keeps its shape (and its counts) when a target is added.
    static func bucketCapacity(_ config: Config) -> Int {
        var rows = 64
        while rows < 2 * config.targets.count + 8 { rows *= 2 }
        return rows
    }

    /// The counters for the processes about to serve `config`: in `metrics_file` when set
    /// (shared with every process that maps it), else in memory shared with later forks.
    /// Throws a startup error naming the key when the file cannot be used.
    static func open(for config: Config) throws(StartupError) -> PoolStats {
        do {
            return try PoolStats(buckets: bucketCapacity(config), workerSlots: workerCapacity, path: config.metricsFile)
        } catch {
            if let path = config.metricsFile { throw StartupError("metrics_file: cannot map \(path): \(error)") }
            throw StartupError("cannot map the pool's counters: \(error)")
        }
    }
}
