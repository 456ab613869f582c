internal import CFastCGI
import Glibc

/// Signal set-up for a worker process (one that accepts requests).
///
/// - SIGPIPE is ignored: a client that hangs up makes the next write fail with EPIPE (libfcgi then
///   returns -1 and the request is abandoned) instead of killing the worker.
/// - SIGHUP is ignored: reloading is the pool parent's job; a stray HUP must not kill a worker.
/// - SIGTERM, SIGINT and SIGUSR1 (libfcgi's own "stop" signal) are the shutdown signals. Their
///   handler only calls `FCGX_ShutdownPending()` and they are installed without `SA_RESTART`, so a
///   wait for a connection returns. They stay blocked except while `FastCGIRequest.accept` waits,
///   so a request being answered always completes before the worker exits.
///
/// Installed before the first `FastCGIRequest` so libfcgi's `FCGX_Init`, which only sets handlers
/// where a signal is still at `SIG_DFL`, leaves them alone (and they are set unconditionally here,
/// so an earlier `FCGX_Init`, e.g. from `CGI.isCGI()`, is overridden too).
public enum WorkerSignals {
    /// The signals that ask a worker to finish its request and exit.
    static let shutdownSignals: [Int32] = [SIGTERM, SIGINT, SIGUSR1]

    /// Installs the dispositions above and blocks the shutdown signals. Wraps `sigaction` and
    /// `pthread_sigmask`; the handler wraps `FCGX_ShutdownPending`.
    public static func install() throws(FastCGIError) {
        // A C function pointer without captures: no Swift state is touched in signal context.
        let shutdown: @convention(c) (Int32) -> Void = { _ in FCGX_ShutdownPending() }
        var action = sigaction()
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0  // no SA_RESTART: the wait must return with EINTR
        action.__sigaction_handler.sa_handler = shutdown
        var blocked = sigset_t()
        sigemptyset(&blocked)
        for signal in shutdownSignals {
            try systemCall("sigaction", "for signal \(signal)") { sigaction(signal, &action, nil) }
            sigaddset(&blocked, signal)
        }
        try ignore(SIGPIPE)
        try ignore(SIGHUP)
        let result = pthread_sigmask(SIG_BLOCK, &blocked, nil)
        guard result == 0 else { throw .system(call: "pthread_sigmask", errno: result, context: "") }
    }

    private static func ignore(_ signal: Int32) throws(FastCGIError) {
        var action = sigaction()
        sigemptyset(&action.sa_mask)
        action.__sigaction_handler.sa_handler = SIG_IGN
        try systemCall("sigaction", "ignoring signal \(signal)") { sigaction(signal, &action, nil) }
    }
}
