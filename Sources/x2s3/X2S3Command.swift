import ArgumentParser
import FastCGI
import Glibc
import Logging
import Storage
import WorkerPool
import X2S3Core

/// `x2s3`: the read-only S3 gateway as a FastCGI responder. The run mode follows from how it was
/// started (docs/contract.md#run-modes):
/// - A. fd 0 is a listening socket (spawn-fcgi) and no `--socket`: one worker on fd 0, or a pool
///   of `--workers N` on fd 0.
/// - B. `--socket ADDRESS`: open it and run a pool of `--workers N` (default 2).
/// - C. no FastCGI listener and a CGI environment (`GATEWAY_INTERFACE` set): answer one request
///   from the environment on stdout, exit.
@main
struct X2S3Command: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "x2s3",
        abstract: "Read-only S3 gateway: a FastCGI responder for nginx (or a CGI program).",
        discussion: """
            Under spawn-fcgi (listening socket on fd 0): serves on fd 0. With --socket: runs its own \
            pool (SIGTERM drains, SIGHUP reloads the config). Without either, inside a CGI \
            environment: answers one request on stdout.
            """,
        subcommands: [Presign.self]
    )

    /// `presign` is handed its arguments directly: parsed as a subcommand, its `--config` would
    /// be taken by this command's option of the same name.
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if let (before, after) = presignArguments(arguments) {
            Presign.main(after + before)
        } else if arguments.count == 2, arguments.first == "help", arguments.last == "presign" {
            Presign.main(["--help"])
        } else {
            main(arguments)
        }
    }

    /// `presign`'s arguments, when it is the subcommand: a `--config` written before it (as the
    /// usage line allows for this command) is handed to it too.
    static func presignArguments(_ arguments: [String]) -> (before: [String], after: [String])? {
        var i = 0
        while i < arguments.count {
            if arguments[i] == "presign" { return (Array(arguments[..<i]), Array(arguments[(i + 1)...])) }
            if arguments[i] == "--config", i + 1 < arguments.count { i += 2 } else if arguments[i].hasPrefix("--config=") { i += 1 } else { return nil }
        }
        return nil
    }

    @Option(help: "Config file (default: $X2S3_CONFIG, else ./config.yaml).")
    var config: String?

    @Option(help: "Listen on unix:PATH, tcp:HOST:PORT or tcp6:[ADDR]:PORT and run a worker pool.")
    var socket: String?

    @Option(help: "A fixed pool of N worker processes (default with --socket: the config's `pool:` bounds, which grow and shrink; 1 on fd 0).")
    var workers: Int?

    @Flag(help: "Load and validate the config, print a summary and exit.")
    var checkConfig = false

    func run() throws {
        do {
            try start()
        } catch {
            // Empty: already logged as a JSON line (log_format: json).
            if !error.description.isEmpty { ProcessControl.printError("x2s3: \(error)") }
            throw ExitCode(1)
        }
    }

    private func start() throws(StartupError) {
        if let workers, !(1...1024).contains(workers) {
            throw StartupError("--workers must be between 1 and 1024 (got \(workers))")
        }
        let startup = Startup(configArgument: config, environment: CGI.environment())
        let loaded = try startup.loadConfig()
        // Before any fork: every worker inherits the handler factory.
        // The format is fixed for the process's life (a SIGHUP reload keeps it).
        let format = loaded.logFormat
        LoggingSystem.bootstrap { LineLogHandler(label: $0, format: format) }
        var logger = Logger(label: "x2s3")
        logger.logLevel = Startup.level(loaded.logLevel)
        startup.warnAbout(loaded, logger: logger)
        do {
            try serve(startup: startup, config: loaded, logger: logger)
        } catch where format == .json {
            logger.critical("x2s3: \(error)")
            throw StartupError("")
        }
    }

    private func serve(startup: Startup, config loaded: Config, logger: Logger) throws(StartupError) {
        if checkConfig {
            let count = loaded.targets.count, privateNames = loaded.targets.filter(\.isPrivate).map(\.name)
            let privates = privateNames.isEmpty ? "" : " (\(privateNames.count) private: \(privateNames.joined(separator: ", ")))"
            let source = startup.configFile.map { "from \($0)" }
                ?? "no config file (./config.yaml does not exist, and neither --config nor X2S3_CONFIG names one): the defaults and X2S3_* variables"
            print("config OK: \(count) target\(count == 1 ? "" : "s")\(privates); \(source)")
            return
        }
        if let socket {
            try runPool(socket: socket, startup: startup, config: loaded, logger: logger)
        } else if CGI.isCGI() {
            guard startup.environment["GATEWAY_INTERFACE"] != nil else {
                throw StartupError(
                    "fd 0 is not a FastCGI listening socket and this is no CGI request (GATEWAY_INTERFACE unset): run under spawn-fcgi, with --socket, or as a CGI program")
            }
            guard workers == nil else { throw StartupError("--workers needs --socket or a listening socket on fd 0") }
            Worker.runCGI(environment: startup.environment, config: loaded, logger: logger)
        } else if let workers {
            var pool = try Pool(listenFD: 0, fixedSize: workers, startup: startup, config: loaded, logger: logger)
            pool.run()
        } else {
            // spawn-fcgi's workers have no common parent: only a file gives them common counts.
            if loaded.metricsFile == nil {
                logger.notice("metrics_file is not set: /_x2s3/metrics counts this worker's requests only")
            }
            let stats = try PoolStats.open(for: loaded)
            let status = Worker.run(listenFD: 0, config: loaded, logger: logger, stats: stats)
            if status != 0 { Glibc.exit(status) }
        }
    }

    private func runPool(socket: String, startup: Startup, config: Config, logger: Logger) throws(StartupError) {
        let listener: ListenSocket
        do {
            listener = try ListenSocket.open(try ListenAddress(parsing: socket))
        } catch {
            throw StartupError("\(error)")
        }
        var pool: Pool
        do {
            pool = try Pool(listenFD: listener.fd, fixedSize: workers, startup: startup, config: config, logger: logger)
        } catch {
            listener.close()
            throw error
        }
        pool.run()
        listener.close()
        logger.info("pool stopped")
    }
}
