import Glibc
import Logging
import X2S3Core

/// A startup problem: printed as one `x2s3: <message>` line, then a non-zero exit.
struct StartupError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}

/// What `main` resolves once and the pool needs again on SIGHUP: where the config comes from.
struct Startup: Sendable {
    /// `--config`, if given.
    let configArgument: String?
    /// The process environment, read once (`X2S3_CONFIG`, `X2S3_*` overrides).
    let environment: [String: String]

    /// Resolves the path (`--config`, `X2S3_CONFIG`, `./config.yaml`) and loads it. A missing
    /// `./config.yaml` that nobody asked for means "defaults plus environment"; a missing file that
    /// was named explicitly is an error (the loader reports it).
    func loadConfig() throws(StartupError) -> Config {
        let source = configFile
        do {
            return try ConfigLoader.load(path: source, environment: environment)
        } catch {
            throw StartupError("\(error)")
        }
    }

    /// The config file `loadConfig` reads: nil when none was named and `./config.yaml` is absent.
    var configFile: String? {
        let (path, explicit) = ConfigLoader.resolvePath(argument: configArgument, environment: environment)
        return explicit || access(path, F_OK) == 0 ? path : nil
    }

    /// Why there is no config file, for the commands that need one.
    static let noConfigFile = "no config file: ./config.yaml does not exist; name one with --config FILE or X2S3_CONFIG"

    /// The original's level names (case-insensitive); anything else is `info`.
    static func level(_ name: String) -> Logger.Level {
        switch name.uppercased() {
        case "TRACE": return .trace
        case "DEBUG": return .debug
        case "WARNING", "WARN": return .warning
        case "ERROR": return .error
        case "CRITICAL": return .critical
        default: return .info
        }
    }

    /// One warning per key the original accepts but x2s3 ignores, and one per setting that
    /// loads but probably does not do what was meant (`Config.warnings`).
    func warnAbout(_ config: Config, logger: Logger) {
        for key in config.ignoredKeys {
            logger.warning("config key has no effect in x2s3; ignored", metadata: ["key": "\(key)"])
        }
        for warning in config.warnings {
            logger.warning("config: \(warning)")
        }
    }
}
