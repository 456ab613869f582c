import Glibc
import Logging
import Posix
import WorkerPool
import X2S3Core

/// The pool leader (fcgiwrap's prefork grown into php-fpm's `pm = dynamic`): forks workers that
/// share one listening socket, keeps the number of idle ones between the configured bounds,
/// replaces any that die or make no progress, sheds load with 503 SlowDown when every worker
/// has been busy for `max_wait`, drains on SIGTERM/SIGINT, reloads the config on SIGHUP. It
/// answers no requests itself and installs no signal handlers: the signals it cares about stay
/// blocked and are taken one at a time with `sigtimedwait`, between ticks of the policy.
struct Pool {
    let listenFD: Int32
    var startup: Startup
    var config: Config
    var logger: Logger
    /// `--workers N`: a fixed pool of N; nil: the config's `pool:` bounds.
    let fixedSize: Int?

    /// Drain limit after SIGTERM before the remaining workers are killed.
    static let drainLimit = Duration.seconds(10)
    /// A worker that dies sooner than this after its start counts as a failed start.
    static let quickDeath = Duration.seconds(1)
    /// How often the leader looks at the scoreboard.
    static let tick = Duration.milliseconds(100)

    struct Child {
        let generation: Int
        let started: ContinuousClock.Instant
        let row: Int
        let shedder: Bool
        /// Why the leader asked it to go (retired when idle, killed when stuck), if it did.
        var leaving: Leaving?
    }

    enum Leaving {
        case retired, killed
    }

    var children: [pid_t: Child] = [:]
    var generation = 0
    private var quickDeaths = 0
    private var nextSpawn = ContinuousClock.now
    var policy: PoolPolicy
    let board: Scoreboard
    /// The pool-wide counters, made before the first fork (every worker inherits them) and
    /// kept across reloads.
    let stats: PoolStats
    var watch = RowWatch()
    let leaderPID = getpid()

    init(listenFD: Int32, fixedSize: Int?, startup: Startup, config: Config, logger: Logger) throws(StartupError) {
        self.listenFD = listenFD
        self.fixedSize = fixedSize
        self.startup = startup
        self.config = config
        self.logger = logger
        self.logger[metadataKey: "pid"] = "\(getpid())"  // workers overwrite it with their own
        let limits = Self.limits(config.pool, fixed: fixedSize)
        policy = PoolPolicy(limits: limits)
        // Room for two generations (a reload overlaps them) and the shedder.
        do {
            board = try Scoreboard(rows: 2 * max(limits.maxWorkers, limits.start) + 2)
        } catch {
            throw StartupError("cannot map the pool's scoreboard: \(error)")
        }
        stats = try PoolStats.open(for: config)
        stats.generation = 0
    }

    static func limits(_ p: PoolSettings, fixed: Int?) -> PoolLimits {
        PoolLimits(start: fixed ?? p.start, minSpare: p.minSpare, maxSpare: p.maxSpare,
                   maxWorkers: fixed ?? p.maxWorkers, fixed: fixed != nil,
                   stuckAfter: .milliseconds(Int(p.stuckAfter * 1000)), maxWait: .milliseconds(Int(p.maxWait * 1000)))
    }

    /// Runs until SIGTERM/SIGINT; returns once every worker has exited.
    mutating func run() {
        // Blocked before the first fork so no signal is lost between forks and the first wait.
        let original = ProcessControl.block([SIGCHLD, SIGTERM, SIGINT, SIGHUP])
        let waited = ProcessControl.signalSet([SIGCHLD, SIGTERM, SIGINT, SIGHUP])
        let l = policy.limits
        logger.info("pool starting", metadata: l.fixed ? ["workers": "\(l.start)"] :
            ["start": "\(l.start)", "min_spare": "\(l.minSpare)", "max_spare": "\(l.maxSpare)", "max_workers": "\(l.maxWorkers)"])
        spawn(l.start, original: original)
        var nextTick = ContinuousClock.now + Self.tick
        while true {
            switch ProcessControl.waitForSignal(in: waited, timeout: max(nextTick - .now, .zero)) {
            case SIGTERM, SIGINT:
                drain(waited: waited)
                return
            case SIGHUP:
                reload(original: original)
            case SIGCHLD:
                reap()
            default:
                break
            }
            if ContinuousClock.now >= nextTick {
                reap()
                supervise(original: original)
                nextTick = .now + Self.tick
            }
        }
    }

    /// Forks `count` workers of the current generation (fewer while starts are backing off).
    mutating func spawn(_ count: Int, original: sigset_t, shedder: Bool = false) {
        for _ in 0..<count {
            guard ContinuousClock.now >= nextSpawn else { return }
            guard let row = freeRow() else {
                logger.error("no free scoreboard row; not forking")
                return
            }
            // Cleared before the fork: the child claims its row at once, and a clear after the
            // fork could wipe that claim.
            board.clear(row)
            watch.forget(row)
            guard let pid = ProcessControl.fork() else {
                logger.error("fork failed; retrying", metadata: ["errno": "\(errno)"])
                nextSpawn = .now + .seconds(1)
                return
            }
            if pid == 0 { runChild(row: row, shedder: shedder, original: original) }
            children[pid] = Child(generation: generation, started: .now, row: row, shedder: shedder, leaving: nil)
        }
    }

    /// In the child: never returns.
    private func runChild(row: Int, shedder: Bool, original: sigset_t) -> Never {
        // The parent's mask minus SIGCHLD/SIGHUP; SIGTERM/SIGINT stay blocked until the worker
        // has its own handlers in place (then they are only open while waiting).
        var mask = original
        sigaddset(&mask, SIGTERM)
        sigaddset(&mask, SIGINT)
        ProcessControl.setMask(mask)
        // A worker that outlives its leader would serve on with nobody to replace or stop it:
        // the kernel asks it to finish and exit. The leader may already be gone by now.
        try? Processes.setParentDeathSignal(SIGTERM)
        if Processes.parentID() != leaderPID { exit(0) }
        let slot = board.row(row)
        slot.claim(pid: getpid())
        exit(Worker.run(listenFD: listenFD, config: config, logger: logger, stats: stats, row: slot, shedding: shedder))
    }

    private func freeRow() -> Int? {
        let used = Set(children.values.map(\.row))
        return (0..<board.rows).first { !used.contains($0) }
    }

    mutating func reap() {
        for (pid, status) in ProcessControl.reapExited() {
            guard let child = children.removeValue(forKey: pid) else { continue }
            board.clear(child.row)
            watch.forget(child.row)
            if child.shedder {
                logger.info("shedding stopped", metadata: ["worker": "\(pid)", "status": "\(status)"])
                continue
            }
            switch child.leaving {
            case .retired:
                logger.debug("retired worker exited", metadata: ["worker": "\(pid)", "status": "\(status)"])
                continue
            case .killed:
                logger.info("stuck worker killed", metadata: ["worker": "\(pid)", "status": "\(status)"])
                stats.recordWorkerRestart()
                continue
            case nil:
                break
            }
            guard child.generation == generation else {
                logger.info("worker of the previous config exited", metadata: ["worker": "\(pid)", "status": "\(status)"])
                continue
            }
            if status.exitCode == 0 {
                logger.debug("worker exited", metadata: ["worker": "\(pid)"])
                continue
            }
            // A worker only exits by itself when told or when accepting fails; a signal means it
            // crashed or was killed.
            logger.warning("worker died; respawning", metadata: ["worker": "\(pid)", "status": "\(status)"])
            stats.recordWorkerRestart()
            if ContinuousClock.now - child.started < Self.quickDeath {
                quickDeaths += 1
                // Respawn the first quick death at once, then back off 0.1 s, 0.2 s, … up to 5 s.
                if quickDeaths > 1 {
                    let delay = min(Duration.milliseconds(100) * (1 << min(quickDeaths - 2, 6)), .seconds(5))
                    nextSpawn = .now + delay
                    logger.warning("workers die right after starting; backing off", metadata: ["delay": "\(delay)"])
                }
            } else {
                quickDeaths = 0
            }
        }
    }

    /// SIGHUP: a new config, a new generation of workers; the old ones finish their request and go.
    private mutating func reload(original: sigset_t) {
        do {
            let fresh = try startup.loadConfig()
            if fresh.metricsFile != config.metricsFile {
                logger.warning("metrics_file cannot change on reload (the counters are mapped at start); restart to apply it")
            }
            config = fresh
            logger.logLevel = Startup.level(fresh.logLevel)
            startup.warnAbout(fresh, logger: logger)
        } catch {
            logger.error("config reload failed; keeping the current config", metadata: ["error": "\(error)"])
            return
        }
        let limits = Self.limits(config.pool, fixed: fixedSize)
        if limits.maxWorkers > policy.limits.maxWorkers {
            logger.warning("max_workers cannot grow on reload (the scoreboard is sized at start); restart to apply it")
        }
        policy = PoolPolicy(limits: limits.clamped(toRows: board.rows))
        generation += 1
        stats.generation = UInt64(generation)
        quickDeaths = 0
        nextSpawn = .now
        let old = children.filter { $0.value.generation < generation }.map(\.key)
        logger.info("config reloaded; replacing workers", metadata: ["old": "\(old.sorted())"])
        spawn(policy.limits.start, original: original)
        for pid in old { ProcessControl.send(SIGTERM, to: pid) }
    }

    /// SIGTERM/SIGINT: pass SIGTERM on, wait for the workers to finish their requests (a second
    /// SIGTERM/SIGINT or the drain limit ends the wait), then SIGKILL whatever is left.
    private mutating func drain(waited: sigset_t) {
        logger.info("pool stopping", metadata: ["workers": "\(children.count)"])
        for pid in children.keys { ProcessControl.send(SIGTERM, to: pid) }
        let deadline = ContinuousClock.now + Self.drainLimit
        while !children.isEmpty {
            let left = deadline - .now
            guard left > .zero else { break }
            let signal = ProcessControl.waitForSignal(in: waited, timeout: left)
            if signal == SIGTERM || signal == SIGINT { break }
            for (pid, _) in ProcessControl.reapExited() { children[pid] = nil }
        }
        for pid in children.keys {
            logger.warning("worker did not drain in time; killing", metadata: ["worker": "\(pid)"])
            ProcessControl.send(SIGKILL, to: pid)
            _ = ProcessControl.waitFor(pid)
        }
        children = [:]
    }
}

extension PoolLimits {
    /// The limits, with max_workers cut to what a scoreboard of `rows` rows can hold.
    func clamped(toRows rows: Int) -> PoolLimits {
        var l = self
        let room = (rows - 2) / 2
        l.maxWorkers = min(l.maxWorkers, room)
        l.start = min(l.start, l.maxWorkers)
        l.maxSpare = min(l.maxSpare, l.maxWorkers)
        l.minSpare = min(l.minSpare, l.maxSpare)
        return l
    }
}
