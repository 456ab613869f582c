import Glibc
import Testing
import WorkerPool

@Suite struct ScoreboardTests {
    @Test func aRowIsSeenByTheLeaderAsTheWorkerWroteIt() throws {
        let board = try Scoreboard(rows: 3)
        let row = board.row(1)
        row.claim(pid: 4242)
        row.markIdle()
        #expect(board.observe(1).state == .idle)
        row.markBusy()
        row.bump()
        let seen = board.observe(1)
        #expect(seen.pid == 4242)
        #expect(seen.state == .busy)
        #expect(seen.progress == 2)
        #expect(seen.requests == 1)
        #expect(board.observe(0).state == .empty)
        board.clear(1)
        #expect(board.observe(1).pid == 0)
    }

    @Test func aForkedChildWritesWhatTheParentReads() throws {
        let board = try Scoreboard(rows: 1)
        let pid = fork()
        if pid == 0 {
            let row = board.row(0)
            row.claim(pid: getpid())
            row.markBusy()
            _exit(0)
        }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        #expect(board.observe(0).pid == pid)
        #expect(board.observe(0).state == .busy)
    }
}
