/// The pool's bounds, in the leader's terms (see `PoolSettings` for their meaning).
public struct PoolLimits: Sendable, Equatable {
    public var start: Int
    public var minSpare: Int
    public var maxSpare: Int
    public var maxWorkers: Int
    /// A fixed pool (`--workers N`): always `start` workers, never more, never fewer.
    public var fixed: Bool
    public var stuckAfter: Duration
    public var maxWait: Duration

    public init(start: Int, minSpare: Int, maxSpare: Int, maxWorkers: Int, fixed: Bool,
                stuckAfter: Duration, maxWait: Duration) {
        self.start = start
        self.minSpare = minSpare
        self.maxSpare = maxSpare
        self.maxWorkers = maxWorkers
        self.fixed = fixed
        self.stuckAfter = stuckAfter
        self.maxWait = maxWait
    }

    /// A stopped worker (SIGSTOP) never moves again by itself, so it is replaced sooner than one
    /// that may still be waiting on something slow.
    public var stoppedAfter: Duration { min(stuckAfter, .seconds(3)) }
}

/// What the leader knows of one worker at a tick.
public struct WorkerSnapshot: Sendable, Equatable {
    public var pid: Int32
    public var state: Scoreboard.State
    /// How long its row has shown the same state and progress.
    public var quietFor: Duration
    /// How long the kernel has shown it stopped (`T`), or nil when it is not.
    public var stoppedFor: Duration?

    public init(pid: Int32, state: Scoreboard.State, quietFor: Duration, stoppedFor: Duration? = nil) {
        self.pid = pid
        self.state = state
        self.quietFor = quietFor
        self.stoppedFor = stoppedFor
    }
}

/// One thing the leader should do.
public enum PoolAction: Sendable, Equatable {
    /// Fork this many workers.
    case spawn(Int)
    /// Ask an idle worker to exit (SIGTERM): more are idle than `maxSpare`.
    case retire(Int32)
    /// Kill a worker that makes no progress (SIGKILL); the pool then replaces it.
    case replace(Int32, reason: String)
    /// Every worker has been busy, with connections waiting, for `maxWait`: start the process
    /// that answers 503 SlowDown to what waits.
    case startShedding
    /// A worker is free again: stop shedding.
    case stopShedding
}

/// The leader's decisions, as a pure function of what it observes (php-fpm's `pm = dynamic`,
/// plus stuck-worker replacement and load shedding), so every rule is testable without processes.
public struct PoolPolicy: Sendable {
    public let limits: PoolLimits
    private var lastRetire: ContinuousClock.Instant?
    private var saturatedSince: ContinuousClock.Instant?

    /// At most one idle worker retires per interval, so a short lull does not empty the pool.
    static let retireInterval = Duration.seconds(1)

    public init(limits: PoolLimits) { self.limits = limits }

    /// The actions for one tick. `workers` are the current generation's live workers (a worker
    /// whose row is still `.empty` is starting); `pending` says whether a connection waits in the
    /// listen queue; `shedding` whether the shedding process runs.
    public mutating func decide(workers: [WorkerSnapshot], pending: Bool, shedding: Bool,
                                now: ContinuousClock.Instant) -> [PoolAction] {
        var actions: [PoolAction] = []
        var healthy: [WorkerSnapshot] = []
        for w in workers {
            if let stopped = w.stoppedFor, stopped >= limits.stoppedAfter {
                actions.append(.replace(w.pid, reason: "stopped (SIGSTOP) for \(stopped)"))
            } else if w.state == .busy, w.quietFor >= limits.stuckAfter {
                actions.append(.replace(w.pid, reason: "no progress on a request for \(w.quietFor)"))
            } else {
                healthy.append(w)
            }
        }
        let live = healthy.count
        // A stopped worker is not available, even before it is replaced.
        let idle = healthy.filter { $0.state == .idle && $0.stoppedFor == nil }
        let starting = healthy.count { $0.state == .empty }
        let available = idle.count + starting
        let cap = limits.fixed ? limits.start : limits.maxWorkers

        var wanted = 0
        if limits.fixed {
            wanted = limits.start - live
        } else {
            wanted = max(max(1, limits.minSpare) - available, 0)
            wanted = max(wanted, 1 - live)
        }
        wanted = min(wanted, cap - live)
        if wanted > 0 { actions.append(.spawn(wanted)) }

        if !limits.fixed, idle.count > limits.maxSpare,
           lastRetire.map({ now - $0 >= Self.retireInterval }) ?? true {
            // The one idle longest: nginx keeps reusing recently used connections, so it is
            // the least likely to be about to get a request.
            if let victim = idle.max(by: { $0.quietFor < $1.quietFor }) {
                actions.append(.retire(victim.pid))
                lastRetire = now
            }
        }

        let saturated = available == 0 && live + wanted >= cap && wanted <= 0 && pending
        if saturated {
            let since = saturatedSince ?? now
            saturatedSince = since
            if !shedding, now - since >= limits.maxWait { actions.append(.startShedding) }
        } else {
            saturatedSince = nil
        }
        if shedding, available > 0 || wanted > 0 { actions.append(.stopShedding) }
        return actions
    }
}
