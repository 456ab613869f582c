public import Posix

/// The pool's shared table: one row per worker process, written by that worker, read by the
/// leader to decide when to grow, shrink, replace a stuck worker or shed load. Made by the
/// leader before the first fork; workers inherit it.
///
/// A row is four cells: the worker's pid, its state, a progress count (bumped when a request
/// starts and whenever a chunk of its response goes out) and its request count. Only the
/// worker writes its row (the leader clears a row once its worker has been reaped).
public struct Scoreboard: Sendable {
    /// What a worker is doing, as its row says.
    public enum State: UInt64, Sendable {
        /// No worker in this row (or one that has not reached its first wait yet).
        case empty = 0
        /// Waiting for a request.
        case idle = 1
        /// Answering a request.
        case busy = 2
    }

    static let cellsPerRow = 4
    private let cells: SharedCells
    /// How many rows there are.
    public let rows: Int

    /// Maps a table of `rows` empty rows.
    public init(rows: Int) throws(Errno) {
        cells = try SharedCells(count: rows * Self.cellsPerRow)
        self.rows = rows
    }

    /// The worker's view of its own row.
    public func row(_ index: Int) -> WorkerRow { WorkerRow(cells: cells, base: index * Self.cellsPerRow) }

    /// What the leader reads of a row.
    public func observe(_ index: Int) -> (pid: Int32, state: State, progress: UInt64, requests: UInt64) {
        let base = index * Self.cellsPerRow
        return (Int32(truncatingIfNeeded: cells.load(base)), State(rawValue: cells.load(base + 1)) ?? .empty,
                cells.load(base + 2), cells.load(base + 3))
    }

    /// Empties a row whose worker has exited, for the next worker to take.
    public func clear(_ index: Int) {
        let base = index * Self.cellsPerRow
        for i in 0..<Self.cellsPerRow { cells.store(base + i, 0) }
    }
}

/// One worker's row, written only by that worker (so a load then a store is an increment).
public struct WorkerRow: Sendable {
    let cells: SharedCells
    let base: Int

    /// Claims the row for the calling process.
    public func claim(pid: Int32) {
        for i in 1..<Scoreboard.cellsPerRow { cells.store(base + i, 0) }
        cells.store(base, UInt64(UInt32(bitPattern: pid)))
    }

    /// The worker waits for a request.
    public func markIdle() { cells.store(base + 1, Scoreboard.State.idle.rawValue) }

    /// The worker took a request.
    public func markBusy() {
        cells.store(base + 3, cells.load(base + 3) &+ 1)
        cells.store(base + 1, Scoreboard.State.busy.rawValue)
        bump()
    }

    /// Work moved forward (a chunk of the response went out).
    public func bump() { cells.store(base + 2, cells.load(base + 2) &+ 1) }
}
