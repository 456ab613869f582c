import Glibc
import Posix
@testable import S3Protocol
@testable import Storage
import Testing
@testable import X2S3Core

/// Manual measurement (not a pass/fail test): first vs last 1000-key page of a 100,000-file
/// flat directory and of a 100 × 1000 tree, with a warm sorted-name cache as in a long-lived
/// worker. Run with `X2S3_BENCH=1 swift test --filter ListingBenchmark` (add `-c release`
/// for production-like absolute numbers; the ratio is the target: last ≤ 1.5 × first).
@Suite(.enabled(if: getenv("X2S3_BENCH") != nil, "set X2S3_BENCH=1 to measure"))
struct ListingBenchmark {
    static func ms(_ d: Duration) -> Double {
        Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
    }

    /// Median wall time of `runs` calls.
    static func median(_ runs: Int, _ body: () throws -> Void) rethrows -> Double {
        let clock = ContinuousClock()
        var times: [Double] = []
        for _ in 0..<runs { times.append(ms(try clock.measure(body))) }
        return times.sorted()[runs / 2]
    }

    static func age(_ path: String) {
        var times = [timespec(tv_sec: 1_600_000_000, tv_nsec: 0), timespec(tv_sec: 1_600_000_000, tv_nsec: 0)]
        _ = utimensat(AT_FDCWD, path, &times, 0)
    }

    static func f(_ x: Double) -> String { "\((x * 100).rounded() / 100)" }

    func measure(_ name: String, _ tree: TempTree, prefix: String) throws {
        let cache = SortedNameCache()
        let lister = FileLister(root: tree.root(), bucket: "bench", cache: cache) { st, open in
            ETagPolicy(calculate: false).etag(stat: st, open: open)
        }
        var q = ListQuery(version: .v2)
        q.maxKeys = 1000
        q.prefix = prefix
        // Walk every page once: collects the last page's token and warms the cache.
        let clock = ContinuousClock()
        var tokens: [String?] = [nil]
        var pages = 0
        let full = try clock.measure {
            while true {
                var p = q
                p.continuationToken = tokens.last!
                let page = try lister.list(p)
                pages += 1
                guard let next = page.nextContinuationToken else { break }
                tokens.append(next)
            }
        }
        var last = q
        last.continuationToken = tokens.last!
        var middle = q
        middle.continuationToken = tokens[tokens.count / 2]
        // Interleaved, so load from other processes on the machine hits all three alike.
        var firsts: [Double] = [], mids: [Double] = [], ends: [Double] = []
        for _ in 0..<21 {
            firsts.append(try Self.median(1) { _ = try lister.list(q) })
            mids.append(try Self.median(1) { _ = try lister.list(middle) })
            ends.append(try Self.median(1) { _ = try lister.list(last) })
        }
        let first = firsts.sorted()[10], mid = mids.sorted()[10], end = ends.sorted()[10]
        let cold = try Self.median(3) {
            let coldLister = FileLister(root: tree.root(), bucket: "bench", cache: SortedNameCache()) { _, _ in nil }
            _ = try coldLister.list(last)
        }
        print("""
            BENCH \(name): \(pages) pages; full paging \(Self.f(Self.ms(full))) ms (cold cache)
            BENCH \(name): first \(Self.f(first)) ms, middle \(Self.f(mid)) ms, last \(Self.f(end)) ms, last/first \(Self.f(end / first)); last page with a cold cache \(Self.f(cold)) ms; cache loads \(cache.loads)
            """)
        #expect(end <= 1.5 * first)
    }

    /// A scratch tree, or with `X2S3_BENCH_DIR` a kept one that later runs reuse.
    static func tree(_ name: String) -> TempTree {
        guard let dir = getenv("X2S3_BENCH_DIR") else { return TempTree() }
        return TempTree(keeping: String(decoding: UnsafeRawBufferPointer(start: dir, count: strlen(dir)), as: UTF8.self) + "/" + name)
    }

    @Test func flatDirectoryOf100000Files() throws {
        let t = Self.tree("flat")
        for i in 0..<100_000 where !t.exists("done") { t.file("flat/file-\(String(i * 7919 % 100_000)).dat", size: 0) }
        t.file("done")
        Self.age(t.path + "/flat")
        Self.age(t.path)
        try measure("flat 100000", t, prefix: "flat/")
    }

    @Test func nestedTreeOf100DirectoriesOf1000Files() throws {
        let t = Self.tree("nested")
        for d in 0..<100 where !t.exists("done") {
            for f in 0..<1000 { t.file("d\(d * 37 % 100)/f\(f * 13 % 1000).dat") }
            Self.age(t.path + "/d\(d * 37 % 100)")
        }
        t.dir("done")
        Self.age(t.path)
        try measure("nested 100x1000", t, prefix: "")
    }
}
