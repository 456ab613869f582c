import Glibc
import Logging
import X2S3Core

/// The pool parent (fcgiwrap's prefork): forks `size` workers that share one listening socket,
/// re-forks any that die, drains on SIGTERM/SIGINT, reloads the config and replaces the workers on
/// SIGHUP. It answers no requests itself and installs no signal handlers: the signals it cares
/// about stay blocked and are taken one at a time with `sigwaitinfo`, so there is no global state.
struct Pool {
    let listenFD: Int32
    let size: Int
    var startup: Startup
    var config: Config
    var logger: Logger

    /// Drain limit after SIGTERM before the remaining workers are killed.
    static let drainLimit = Duration.seconds(10)
    /// A worker that dies sooner than this after its start counts as a failed start.
    static let quickDeath = Duration.seconds(1)

    private struct Child {
        let generation: Int
        let started: ContinuousClock.Instant
    }

    private var children: [pid_t: Child] = [:]
    private var generation = 0
    private var quickDeaths = 0
    private var nextSpawn = ContinuousClock.now

    init(listenFD: Int32, size: Int, startup: Startup, config: Config, logger: Logger) {
        self.listenFD = listenFD
        self.size = size
        self.startup = startup
        self.config = config
        self.logger = logger
        self.logger[metadataKey: "pid"] = "\(getpid())"  // workers overwrite it with their own
    }

    /// Runs until SIGTERM/SIGINT; returns once every worker has exited.
    mutating func run() {
        // Blocked before the first fork so no signal is lost between forks and the first wait.
        let original = ProcessControl.block([SIGCHLD, SIGTERM, SIGINT, SIGHUP])
        let waited = ProcessControl.signalSet([SIGCHLD, SIGTERM, SIGINT, SIGHUP])
        logger.info("pool starting", metadata: ["workers": "\(size)"])
        refill(original: original)
        while true {
            let now = ContinuousClock.now
            let timeout: Duration? = liveCount < size ? max(nextSpawn - now, .milliseconds(1)) : nil
            switch ProcessControl.waitForSignal(in: waited, timeout: timeout) {
            case SIGTERM, SIGINT:
                drain(waited: waited)
                return
            case SIGHUP:
                reload(original: original)
            default:  // SIGCHLD, or the back-off delay passed
                reap()
                refill(original: original)
            }
        }
    }

    /// Workers of the current generation (older ones are draining after a reload).
    private var liveCount: Int { children.values.count { $0.generation == generation } }

    private mutating func refill(original: sigset_t) {
        while liveCount < size, ContinuousClock.now >= nextSpawn {
            guard let pid = ProcessControl.fork() else {
                logger.error("fork failed; retrying", metadata: ["errno": "\(errno)"])
                nextSpawn = .now + .seconds(1)
                return
            }
            if pid == 0 {
                // Child: the parent's mask minus SIGCHLD/SIGHUP; SIGTERM/SIGINT stay blocked until
                // the worker has its own handlers in place (then they are only open while waiting).
                var mask = original
                sigaddset(&mask, SIGTERM)
                sigaddset(&mask, SIGINT)
                ProcessControl.setMask(mask)
                exit(Worker.run(listenFD: listenFD, config: config, logger: logger))
            }
            children[pid] = Child(generation: generation, started: .now)
        }
    }

    private mutating func reap() {
        for (pid, status) in ProcessControl.reapExited() {
            guard let child = children.removeValue(forKey: pid) else { continue }
            guard child.generation == generation else {
                logger.info("replaced worker exited", metadata: ["worker": "\(pid)", "status": "\(status)"])
                continue
            }
            // A worker only exits by itself when accepting fails; a signal means it crashed or was killed.
            logger.warning("worker died; respawning", metadata: ["worker": "\(pid)", "status": "\(status)"])
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
            config = fresh
            logger.logLevel = Startup.level(fresh.logLevel)
            startup.warnIgnoredKeys(fresh, logger: logger)
        } catch {
            logger.error("config reload failed; keeping the current config", metadata: ["error": "\(error)"])
            return
        }
        generation += 1
        quickDeaths = 0
        nextSpawn = .now
        let old = children.filter { $0.value.generation < generation }.map(\.key)
        logger.info("config reloaded; replacing workers", metadata: ["old": "\(old.sorted())"])
        refill(original: original)
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
