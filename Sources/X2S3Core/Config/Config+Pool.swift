/// The supervised pool's bounds (`pool:` in the config), after php-fpm's `pm = dynamic`: the
/// leader starts `start` workers, keeps at least `min_spare` and at most `max_spare` of them
/// idle, never runs more than `max_workers`, replaces a worker that makes no progress on a
/// request for `stuck_after` seconds, and answers 503 SlowDown to requests that waited longer
/// than `max_wait` seconds for a worker. `--workers N` on the command line fixes the pool at N
/// instead (the bounds then do not apply; `stuck_after` and `max_wait` still do).
public struct PoolSettings: Sendable, Equatable {
    public var start: Int = 2
    public var minSpare: Int = 1
    public var maxSpare: Int = 3
    public var maxWorkers: Int = 16
    /// Seconds without progress on a request before a worker is replaced. Keep it above the
    /// S3 targets' `read_timeout` (60 s by default), so a slow upstream is answered by the
    /// worker's own 504 rather than cut.
    public var stuckAfter: Double = 90
    /// Seconds a request may wait for a worker before it is answered 503 SlowDown.
    public var maxWait: Double = 10

    public init() {}

    static let keys = ["start", "min_spare", "max_spare", "max_workers", "stuck_after", "max_wait"]
    /// The largest pool the config may ask for (each worker is a process with its own caches).
    static let workerLimit = 1024
}

extension RawSettings {
    /// `pool: {start, min_spare, max_spare, max_workers, stuck_after, max_wait}`; absent keys keep
    /// their defaults, and the bounds must be consistent with each other.
    static func pool(_ v: ConfigValue) throws(ConfigError) -> PoolSettings {
        var p = PoolSettings()
        let fields = try v.fields(allowing: PoolSettings.keys)
        func present(_ key: String) -> ConfigValue? { fields[key].flatMap { $0.isNull ? nil : $0 } }
        let range = 1...PoolSettings.workerLimit
        if let f = present("max_workers") { p.maxWorkers = try f.int(in: range) }
        if let f = present("start") { p.start = try f.int(in: range) }
        if let f = present("min_spare") { p.minSpare = try f.int(in: range) }
        if let f = present("max_spare") { p.maxSpare = try f.int(in: range) }
        if let f = present("stuck_after") { p.stuckAfter = try f.positiveNumber() }
        if let f = present("max_wait") { p.maxWait = try f.positiveNumber() }
        // Defaults adapt to a small max_workers, so `pool: {max_workers: 1}` alone is valid.
        if present("start") == nil { p.start = min(p.start, p.maxWorkers) }
        if present("min_spare") == nil { p.minSpare = min(p.minSpare, p.maxWorkers) }
        if present("max_spare") == nil { p.maxSpare = min(max(p.maxSpare, p.minSpare), p.maxWorkers) }
        guard p.start <= p.maxWorkers else {
            throw (fields["start"] ?? v).error("start (\(p.start)) must not exceed max_workers (\(p.maxWorkers))")
        }
        guard p.minSpare <= p.maxSpare else {
            throw (fields["min_spare"] ?? v).error("min_spare (\(p.minSpare)) must not exceed max_spare (\(p.maxSpare))")
        }
        guard p.maxSpare <= p.maxWorkers else {
            throw (fields["max_spare"] ?? v).error("max_spare (\(p.maxSpare)) must not exceed max_workers (\(p.maxWorkers))")
        }
        return p
    }
}
