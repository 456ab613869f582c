import Glibc
import Logging
import Posix
import WorkerPool

/// What the leader remembers of each scoreboard row between ticks: the last state and progress
/// it saw, since when, and since when the kernel has shown the worker stopped.
struct RowWatch {
    private struct Seen {
        var state: Scoreboard.State
        var progress: UInt64
        var since: ContinuousClock.Instant
        var stoppedSince: ContinuousClock.Instant?
    }

    private var rows: [Int: Seen] = [:]
    /// A row quiet for less than this is certainly not stopped long enough to matter: its
    /// process state is not read (one /proc read per quiet worker per tick otherwise).
    static let stateCheckAfter = Duration.milliseconds(500)

    mutating func forget(_ row: Int) { rows[row] = nil }

    /// Updates the row's record from what the board shows now and returns the snapshot of
    /// worker `pid` (the leader's own record of who runs in the row: the row's pid cell is
    /// the worker's to write, and is not there until it has started).
    mutating func observe(row: Int, pid: Int32, board: Scoreboard, now: ContinuousClock.Instant) -> WorkerSnapshot {
        let o = board.observe(row)
        var seen = rows[row] ?? Seen(state: o.state, progress: o.progress, since: now)
        if seen.state != o.state || seen.progress != o.progress {
            seen = Seen(state: o.state, progress: o.progress, since: now)
        }
        let quiet = now - seen.since
        if quiet >= Self.stateCheckAfter, Processes.state(of: pid) == UInt8(ascii: "T") {
            seen.stoppedSince = seen.stoppedSince ?? now
        } else {
            seen.stoppedSince = nil
        }
        rows[row] = seen
        return WorkerSnapshot(pid: pid, state: o.state, quietFor: quiet, stoppedFor: seen.stoppedSince.map { now - $0 })
    }
}

extension Pool {
    /// One tick: observe the current generation's workers, ask the policy, act.
    mutating func supervise(original: sigset_t) {
        let now = ContinuousClock.now
        var snapshots: [WorkerSnapshot] = []
        var shedder: pid_t?
        for (pid, child) in children.sorted(by: { $0.key < $1.key }) {
            if child.shedder { shedder = pid }
            guard child.leaving != .killed else { continue }
            let snapshot = watch.observe(row: child.row, pid: pid, board: board, now: now)
            if !child.shedder, child.generation == generation, child.leaving == nil {
                snapshots.append(snapshot)
            } else if let stopped = snapshot.stoppedFor, stopped >= policy.limits.stoppedAfter {
                // Outside the policy's count (the shedder, a worker asked to exit, one of the
                // previous config), but a stopped process never gets to exit: its kept
                // connections would hold nginx's requests for good.
                logger.warning("stopped process killed", metadata: ["worker": "\(pid)", "stopped": "\(stopped)"])
                ProcessControl.send(SIGKILL, to: pid)
                children[pid]?.leaving = .killed
            }
        }
        let actions = policy.decide(workers: snapshots, pending: Processes.hasPendingConnection(listenFD),
                                    shedding: shedder != nil, now: now)
        for action in actions {
            switch action {
            case .spawn(let n):
                if n > 0, children.count > policy.limits.start { logger.debug("pool growing", metadata: ["by": "\(n)"]) }
                spawn(n, original: original)
            case .retire(let pid):
                logger.debug("pool shrinking: retiring an idle worker", metadata: ["worker": "\(pid)"])
                ProcessControl.send(SIGTERM, to: pid)
                // Not counted again before it exits.
                children[pid]?.leaving = .retired
            case .replace(let pid, let reason):
                logger.warning("worker makes no progress; replacing it", metadata: ["worker": "\(pid)", "reason": "\(reason)"])
                ProcessControl.send(SIGKILL, to: pid)
                children[pid]?.leaving = .killed
            case .startShedding:
                logger.warning("every worker busy with requests waiting: answering 503 SlowDown until one is free",
                               metadata: ["max_wait": "\(policy.limits.maxWait)"])
                spawn(1, original: original, shedder: true)
            case .stopShedding:
                if let shedder { ProcessControl.send(SIGTERM, to: shedder) }
            }
        }
    }
}
