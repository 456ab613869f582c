public import Posix

/// The pool-wide counters behind `/_x2s3/metrics` and `/_x2s3/health`: one table of 64-bit cells
/// that every worker adds to atomically. It lives in shared memory, not in a worker, so counts
/// survive a worker's death and respawn and a config reload: either an anonymous mapping made
/// by the pool leader before its first fork, or a file (`metrics_file`) that workers with no
/// common parent (spawn-fcgi's) map too.
///
/// The table has a fixed size, so the metrics' cardinality is bounded by design: twelve
/// operations, sixteen statuses (the fifteen x2s3 answers with, and "other"), and bucket rows
/// for configured bucket names only (a name a client makes up counts under `-`, row 0).
/// Bucket rows are claimed by name, not by config position, so a reload that reorders,
/// adds or removes targets keeps every count under its bucket.
public struct PoolStats: Sendable {
    /// What a request asked for (the `operation` label).
    public enum Operation: Int, CaseIterable, Sendable {
        case getObject, headObject, listObjectsV2, listObjects, listBuckets, headBucket, getBucketAcl,
             getBucketLocation, browse, preview, preflight, other

        /// The label value: S3's operation name, or x2s3's own for pages and preflights.
        public var name: String {
            switch self {
            case .getObject: return "GetObject"
            case .headObject: return "HeadObject"
            case .listObjectsV2: return "ListObjectsV2"
            case .listObjects: return "ListObjects"
            case .listBuckets: return "ListBuckets"
            case .headBucket: return "HeadBucket"
            case .getBucketAcl: return "GetBucketAcl"
            case .getBucketLocation: return "GetBucketLocation"
            case .browse: return "Browse"
            case .preview: return "Preview"
            case .preflight: return "Preflight"
            case .other: return "Other"
            }
        }
    }

    /// Why an upstream exchange failed (the `cause` label).
    public enum UpstreamCause: Int, CaseIterable, Sendable {
        /// The endpoint's name did not resolve.
        case dns
        /// No TCP connection (refused, unreachable).
        case connect
        /// The TLS handshake or certificate verification failed.
        case tls
        /// Nothing within the connect or read timeout.
        case timeout
        /// The upstream answered with an error status (not a missing key).
        case status
        /// The exchange broke or the reply was not valid HTTP.
        case `protocol`
        /// Anything else (the request could not be made).
        case other

        public var name: String { self == .protocol ? "protocol" : "\(self)" }
    }

    /// A worker's state in its slot (`x2s3_workers{state}`).
    public enum WorkerState: UInt64, CaseIterable, Sendable {
        case idle = 1, busy = 2, shedding = 3

        public var name: String { "\(self)" }
    }

    /// The statuses counted under their own number; any other counts as `other`.
    public static let statuses = [200, 204, 206, 304, 400, 403, 404, 405, 412, 416, 500, 501, 502, 503, 504]
    /// Upper bounds (seconds) of the duration histogram's buckets.
    public static let durationBounds: [Double] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
    /// The bucket label of requests with no bucket, or one that is not configured.
    public static let noBucket = "-"
    /// Longest bucket name with a row of its own (longer ones count under `-`).
    public static let maxNameBytes = 120

    static let magic: UInt64 = 0x5832_5333_5354_4154  // "X2S3STAT"
    static let version: UInt64 = 1
    static let headerCells = 16
    static let nameCells = 1 + maxNameBytes / 8
    static let statusSlots = statuses.count + 1
    static let histogramCells = durationBounds.count + 3  // buckets, +Inf, sum (µs), count

    // Header cells.
    static let generationCell = 4, restartsCell = 5, cacheHitsCell = 6, cacheMissesCell = 7

    let cells: SharedCells
    let layout: Layout
    /// Bucket rows, row 0 (`-`) included.
    public var bucketRows: Int { layout.rows }
    /// Worker slots.
    public var workerSlots: Int { layout.slots }

    /// Where each part of the table starts, in cells.
    struct Layout {
        let rows: Int, slots: Int
        var names: Int { PoolStats.headerCells }
        var requests: Int { names + rows * PoolStats.nameCells }
        var bytes: Int { requests + rows * Operation.allCases.count * PoolStats.statusSlots }
        var upstream: Int { bytes + rows }
        var durations: Int { upstream + rows * UpstreamCause.allCases.count }
        var workers: Int { durations + Operation.allCases.count * PoolStats.histogramCells }
        var count: Int { workers + slots * 2 }
    }

    /// A table for `buckets` bucket names (plus `-`) and `workerSlots` workers: in the file at
    /// `path`, shared with every process mapping it (kept when it already holds a table of this
    /// shape, else started afresh), or with nil an anonymous mapping shared with later forks.
    public init(buckets: Int, workerSlots: Int, path: String? = nil) throws(Errno) {
        layout = Layout(rows: buckets + 1, slots: workerSlots)
        if let path {
            cells = try SharedCells(file: path, count: layout.count,
                                    header: [Self.magic, Self.version, UInt64(layout.rows), UInt64(workerSlots)])
        } else {
            cells = try SharedCells(count: layout.count)
        }
    }

    // MARK: Writing

    /// The row counting requests to bucket `name` (as configured), claimed on first use; 0
    /// (`-`) when the table has no room or the name is too long. Callers keep the answer.
    public func bucketRow(for name: String) -> Int {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= Self.maxNameBytes else { return 0 }
        let packed = Self.pack(bytes)
        for row in 1..<bucketRows {
            let base = layout.names + row * Self.nameCells
            var spins = 0
            while true {
                let state = cells.load(base)
                if state == 2 {
                    if (0..<packed.count).allSatisfy({ cells.load(base + 1 + $0) == packed[$0] }) { return row }
                    break
                }
                if state == 0 {
                    guard cells.replace(base, expected: 0, with: 1) else { continue }
                    for (i, v) in packed.enumerated() { cells.store(base + 1 + i, v) }
                    cells.store(base, 2)
                    return row
                }
                // Another process is writing this row's name: a few stores away from done,
                // unless it died in between; then the row stays unnamed and is skipped.
                spins += 1
                if spins > 10_000 { break }
            }
        }
        return 0
    }

    /// Counts one answered request.
    public func record(_ operation: Operation, status: Int, bucketRow row: Int, bytes: UInt64, microseconds: UInt64) {
        let row = row < bucketRows ? row : 0
        let statusSlot = Self.statuses.firstIndex(of: status) ?? Self.statuses.count
        cells.add(layout.requests + (row * Operation.allCases.count + operation.rawValue) * Self.statusSlots + statusSlot, 1)
        if bytes > 0 { cells.add(layout.bytes + row, bytes) }
        let h = layout.durations + operation.rawValue * Self.histogramCells
        let seconds = Double(microseconds) / 1_000_000
        let slot = Self.durationBounds.firstIndex { seconds <= $0 } ?? Self.durationBounds.count
        cells.add(h + slot, 1)
        cells.add(h + Self.durationBounds.count + 1, microseconds)
        cells.add(h + Self.durationBounds.count + 2, 1)
    }

    /// Counts one failed upstream exchange.
    public func recordUpstreamError(_ cause: UpstreamCause, bucketRow row: Int) {
        cells.add(layout.upstream + (row < bucketRows ? row : 0) * UpstreamCause.allCases.count + cause.rawValue, 1)
    }

    /// Adds a worker's listing-cache hits and misses since it last reported.
    public func recordListingCache(hits: UInt64, misses: UInt64) {
        if hits > 0 { cells.add(Self.cacheHitsCell, hits) }
        if misses > 0 { cells.add(Self.cacheMissesCell, misses) }
    }

    /// The leader counts a worker it had to replace.
    public func recordWorkerRestart() { cells.add(Self.restartsCell, 1) }

    /// The pool's config generation (0 at start, one more per reload); the leader sets it.
    public var generation: UInt64 {
        get { cells.load(Self.generationCell) }
        nonmutating set { cells.store(Self.generationCell, newValue) }
    }

    /// Takes a worker slot for `pid`: a free one, or one whose process is gone (spawn-fcgi
    /// has nobody to free the slot of a worker that died). nil when every slot is taken.
    public func claimWorkerSlot(pid: Int32) -> WorkerSlot? {
        let me = UInt64(UInt32(bitPattern: pid))
        for pass in 0..<2 {
            for slot in 0..<workerSlots {
                let cell = layout.workers + slot * 2
                let holder = cells.load(cell)
                let free = pass == 0 ? holder == 0 : (holder != 0 && !Processes.exists(Int32(truncatingIfNeeded: holder)))
                if free, cells.replace(cell, expected: holder, with: me) {
                    cells.store(cell + 1, WorkerState.idle.rawValue)
                    return WorkerSlot(cells: cells, cell: cell, pid: me)
                }
            }
        }
        return nil
    }

    // MARK: Reading

    /// The live workers by state (slots whose process is gone are not counted).
    public func workers() -> [WorkerState: Int] {
        var counts: [WorkerState: Int] = [:]
        for slot in 0..<workerSlots {
            let cell = layout.workers + slot * 2
            let pid = cells.load(cell)
            guard pid != 0, let state = WorkerState(rawValue: cells.load(cell + 1)),
                  Processes.exists(Int32(truncatingIfNeeded: pid)) else { continue }
            counts[state, default: 0] += 1
        }
        return counts
    }

    /// The name of each claimed bucket row (row 0 is `-`; unclaimed rows are nil).
    func bucketNames() -> [String?] {
        (0..<bucketRows).map { row -> String? in
            if row == 0 { return Self.noBucket }
            let base = layout.names + row * Self.nameCells
            guard cells.load(base) == 2 else { return nil }
            return Self.unpack((1..<Self.nameCells).map { cells.load(base + $0) })
        }
    }

    func requests(row: Int, operation: Operation, statusSlot: Int) -> UInt64 {
        cells.load(layout.requests + (row * Operation.allCases.count + operation.rawValue) * Self.statusSlots + statusSlot)
    }

    func bytes(row: Int) -> UInt64 { cells.load(layout.bytes + row) }

    func upstreamErrors(row: Int, cause: UpstreamCause) -> UInt64 {
        cells.load(layout.upstream + row * UpstreamCause.allCases.count + cause.rawValue)
    }

    /// Per-bucket counts of one duration histogram (not cumulative), then the sum in µs and the count.
    func histogram(_ operation: Operation) -> (buckets: [UInt64], microseconds: UInt64, count: UInt64) {
        let h = layout.durations + operation.rawValue * Self.histogramCells
        let n = Self.durationBounds.count
        return ((0...n).map { cells.load(h + $0) }, cells.load(h + n + 1), cells.load(h + n + 2))
    }

    var restarts: UInt64 { cells.load(Self.restartsCell) }
    var cacheHits: UInt64 { cells.load(Self.cacheHitsCell) }
    var cacheMisses: UInt64 { cells.load(Self.cacheMissesCell) }

    static func pack(_ bytes: [UInt8]) -> [UInt64] {
        var out = [UInt64](repeating: 0, count: nameCells - 1)
        for (i, b) in bytes.enumerated() { out[i / 8] |= UInt64(b) << (8 * UInt64(i % 8)) }
        return out
    }

    static func unpack(_ words: [UInt64]) -> String {
        var bytes: [UInt8] = []
        for w in words {
            for i in 0..<8 {
                let b = UInt8(truncatingIfNeeded: w >> (8 * UInt64(i)))
                if b == 0 { return String(decoding: bytes, as: UTF8.self) }
                bytes.append(b)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// One worker's slot in `PoolStats`: its pid and state, written only by that worker.
public struct WorkerSlot: Sendable {
    let cells: SharedCells
    let cell: Int
    let pid: UInt64

    /// Says what the worker is doing.
    public func mark(_ state: PoolStats.WorkerState) { cells.store(cell + 1, state.rawValue) }

    /// Frees the slot as the worker exits (a worker that dies leaves it to the next claimant).
    public func release() { _ = cells.replace(cell, expected: pid, with: 0) }
}
