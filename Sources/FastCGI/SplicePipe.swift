internal import CFastCGI
import Glibc

/// A pipe that carries file pages from a file to the connection with splice(2): the bytes are
/// never copied through user space, and since Linux 6.5 a Unix socket takes the pages
/// themselves (MSG_SPLICE_PAGES), so the worker copies nothing at all; nginx's read is the one
/// copy left. Opened with the worker's first `FastCGIRequest` (two descriptors for the
/// worker's lifetime); replaced by a fresh one after any failure, which may leave bytes in it
/// that belong to no record.
final class SplicePipe {
    private(set) var ends: (read: Int32, write: Int32)?
    /// Pages the pipe holds (its buffer slots): 1 MiB asked for, the 64 KiB default if refused.
    private(set) var slots = 16

    /// The pipe's ends, opening it if needed; nil when no pipe can be made (then nothing is
    /// spliced and the caller copies).
    func open() -> (read: Int32, write: Int32)? {
        if let ends { return ends }
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return nil }
        let size = fcntl(fds[1], X2S3_F_SETPIPE_SZ, Int32(1 << 20))
        slots = size > 0 ? Int(size) / 4096 : 16
        ends = (fds[0], fds[1])
        return ends
    }

    init() { _ = open() }

    /// Replaces the pipe with an empty one.
    func reset() {
        closeEnds()
        _ = open()
    }

    private func closeEnds() {
        if let ends {
            close(ends.read)
            close(ends.write)
        }
        ends = nil
    }

    deinit { closeEnds() }
}
