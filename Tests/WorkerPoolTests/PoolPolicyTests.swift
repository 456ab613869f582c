import Testing
import WorkerPool

@Suite struct PoolPolicyTests {
    static let t0 = ContinuousClock.now

    static func dynamic(start: Int = 2, minSpare: Int = 1, maxSpare: Int = 3, max: Int = 8) -> PoolLimits {
        PoolLimits(start: start, minSpare: minSpare, maxSpare: maxSpare, maxWorkers: max, fixed: false,
                   stuckAfter: .seconds(60), maxWait: .seconds(5))
    }

    static func fixed(_ n: Int) -> PoolLimits {
        PoolLimits(start: n, minSpare: 1, maxSpare: 3, maxWorkers: n, fixed: true,
                   stuckAfter: .seconds(60), maxWait: .seconds(5))
    }

    static func busy(_ pid: Int32, quiet: Duration = .zero) -> WorkerSnapshot {
        WorkerSnapshot(pid: pid, state: .busy, quietFor: quiet)
    }

    static func idle(_ pid: Int32, quiet: Duration = .zero) -> WorkerSnapshot {
        WorkerSnapshot(pid: pid, state: .idle, quietFor: quiet)
    }

    @Test func growsWhenNoWorkerIsIdle() {
        var p = PoolPolicy(limits: Self.dynamic(minSpare: 2))
        #expect(p.decide(workers: [Self.busy(1), Self.busy(2)], pending: false, shedding: false, now: Self.t0) == [.spawn(2)])
    }

    @Test func startingWorkersCountAsSpare() {
        var p = PoolPolicy(limits: Self.dynamic(minSpare: 2))
        let starting = WorkerSnapshot(pid: 3, state: .empty, quietFor: .zero)
        #expect(p.decide(workers: [Self.busy(1), Self.busy(2), starting], pending: false, shedding: false, now: Self.t0) == [.spawn(1)])
    }

    @Test func neverGrowsPastMaxWorkers() {
        var p = PoolPolicy(limits: Self.dynamic(minSpare: 3, maxSpare: 3, max: 4))
        let workers = (1...3).map { Self.busy(Int32($0)) }
        #expect(p.decide(workers: workers, pending: false, shedding: false, now: Self.t0) == [.spawn(1)])
    }

    @Test func retiresOneIdleWorkerPerSecondAboveMaxSpare() {
        var p = PoolPolicy(limits: Self.dynamic(maxSpare: 2))
        let workers = [Self.idle(1, quiet: .seconds(1)), Self.idle(2, quiet: .seconds(9)), Self.idle(3), Self.idle(4)]
        #expect(p.decide(workers: workers, pending: false, shedding: false, now: Self.t0) == [.retire(2)])
        let rest = [Self.idle(1), Self.idle(3), Self.idle(4)]
        #expect(p.decide(workers: rest, pending: false, shedding: false, now: Self.t0 + .milliseconds(500)) == [])
        #expect(p.decide(workers: rest, pending: false, shedding: false, now: Self.t0 + .seconds(1)) == [.retire(1)])
    }

    @Test func fixedPoolRefillsButNeverGrowsOrShrinks() {
        var p = PoolPolicy(limits: Self.fixed(3))
        #expect(p.decide(workers: [Self.busy(1), Self.busy(2), Self.busy(3)], pending: false, shedding: false, now: Self.t0) == [])
        #expect(p.decide(workers: [Self.idle(1)], pending: false, shedding: false, now: Self.t0) == [.spawn(2)])
        let idle = (1...3).map { Self.idle(Int32($0), quiet: .seconds(100)) }
        #expect(p.decide(workers: idle, pending: false, shedding: false, now: Self.t0) == [])
    }

    @Test func replacesABusyWorkerWithoutProgressButNotAnIdleOne() {
        var p = PoolPolicy(limits: Self.fixed(2))
        let actions = p.decide(workers: [Self.busy(1, quiet: .seconds(61)), Self.idle(2, quiet: .seconds(600))],
                               pending: false, shedding: false, now: Self.t0)
        #expect(actions.count == 2)
        guard case .replace(1, _) = actions.first else { Issue.record("expected replace(1), got \(actions)"); return }
        #expect(actions.last == .spawn(1))
    }

    @Test func replacesAStoppedWorkerSoonerThanStuckAfter() {
        var p = PoolPolicy(limits: Self.fixed(2))
        var stopped = Self.idle(1, quiet: .seconds(30))
        stopped.stoppedFor = .seconds(1)
        #expect(p.decide(workers: [stopped, Self.idle(2)], pending: false, shedding: false, now: Self.t0) == [])
        stopped.stoppedFor = .seconds(3)
        let actions = p.decide(workers: [stopped, Self.idle(2)], pending: false, shedding: false, now: Self.t0)
        guard case .replace(1, _) = actions.first else { Issue.record("expected replace(1), got \(actions)"); return }
    }

    @Test func shedsOnlyAfterMaxWaitOfSaturation() {
        var p = PoolPolicy(limits: Self.fixed(2))
        let all = [Self.busy(1), Self.busy(2)]
        #expect(p.decide(workers: all, pending: true, shedding: false, now: Self.t0) == [])
        #expect(p.decide(workers: all, pending: true, shedding: false, now: Self.t0 + .seconds(4)) == [])
        #expect(p.decide(workers: all, pending: true, shedding: false, now: Self.t0 + .seconds(5)) == [.startShedding])
        #expect(p.decide(workers: all, pending: false, shedding: true, now: Self.t0 + .seconds(6)) == [])
        #expect(p.decide(workers: [Self.busy(1), Self.idle(2)], pending: false, shedding: true, now: Self.t0 + .seconds(7)) == [.stopShedding])
    }

    @Test func aQuietQueueResetsTheSaturationClock() {
        var p = PoolPolicy(limits: Self.fixed(1))
        #expect(p.decide(workers: [Self.busy(1)], pending: true, shedding: false, now: Self.t0) == [])
        #expect(p.decide(workers: [Self.busy(1)], pending: false, shedding: false, now: Self.t0 + .seconds(3)) == [])
        #expect(p.decide(workers: [Self.busy(1)], pending: true, shedding: false, now: Self.t0 + .seconds(6)) == [])
    }

    @Test func aDynamicPoolShedsOnlyAtMaxWorkers() {
        var p = PoolPolicy(limits: Self.dynamic(minSpare: 1, maxSpare: 1, max: 3))
        let two = [Self.busy(1), Self.busy(2)]
        #expect(p.decide(workers: two, pending: true, shedding: false, now: Self.t0) == [.spawn(1)])
        let three = two + [Self.busy(3)]
        #expect(p.decide(workers: three, pending: true, shedding: false, now: Self.t0 + .seconds(1)) == [])
        #expect(p.decide(workers: three, pending: true, shedding: false, now: Self.t0 + .seconds(6)) == [.startShedding])
    }
}
