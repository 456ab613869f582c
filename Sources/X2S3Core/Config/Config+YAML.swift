import Auth
import S3Protocol
import Storage
import YAML

/// Reads the configuration the way the original did (same `config.yaml` format, same
/// `X2S3_*` overrides), but refuses unknown keys and wrongly typed values with a one-line
/// error naming the file, position and key path.
///
/// Called once in `main`, before forking, so every worker shares the result.
public enum ConfigLoader {
    /// The file read when neither `--config` nor `X2S3_CONFIG` names one.
    public static let implicitPath = "config.yaml"

    /// Which file to read: the `--config` argument, else `X2S3_CONFIG`, else `./config.yaml`.
    /// `explicit` is false only for the last, which may be missing (then defaults apply).
    public static func resolvePath(argument: String?, environment: [String: String]) -> (path: String, explicit: Bool) {
        if let argument, !argument.isEmpty { return (argument, true) }
        // Names are case-insensitive, as for every X2S3_ variable; the exact spelling wins a tie.
        let named = environment["X2S3_CONFIG"] ?? environment.first { $0.key.uppercased() == "X2S3_CONFIG" }?.value
        if let named, !named.isEmpty {
            return (named, true)
        }
        return (implicitPath, false)
    }

    /// Loads the config file chosen by `resolvePath(argument: path, …)` and applies the
    /// environment overrides. Bucket directories and credential files are checked here, so
    /// a config that loads can be served.
    public static func load(path: String?, environment: [String: String]) throws(ConfigError) -> Config {
        let (resolved, explicit) = resolvePath(argument: path, environment: environment)
        return try load(file: resolved, explicit: explicit, environment: environment)
    }

    /// Loads `resolved`; a missing file yields the defaults unless it was named explicitly.
    static func load(file resolved: String, explicit: Bool, environment: [String: String]) throws(ConfigError) -> Config {
        switch ConfigFiles.read(resolved) {
        case .success(let text):
            return try load(text: text, source: resolved, environment: environment)
        case .failure(.missing) where !explicit:
            return try load(text: "", source: resolved, environment: environment)
        case .failure(.missing):
            throw ConfigError(source: resolved, message: "config file not found")
        case .failure(.other(let why)):
            throw ConfigError(source: resolved, message: "cannot read config file: \(why)")
        }
    }

    /// Loads config text; `source` names it in error messages. Exposed for tests and fuzzing.
    public static func load(text: String, source: String, environment: [String: String]) throws(ConfigError) -> Config {
        var settings = try RawSettings(root: parse(text, source: source, path: ""))
        settings.temporaryDirectory = environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        try settings.applyEnvironment(environment)
        return try settings.decode()
    }

    /// YAML text as a config value; a syntax error keeps libyaml's position.
    static func parse(_ text: String, source: String, path: String) throws(ConfigError) -> ConfigValue? {
        do {
            guard let node = try YAMLParser.parse(text) else { return nil }
            return ConfigValue(node: node, path: path, origin: .init(source: source, hasPositions: true))
        } catch {
            throw ConfigError(source: source, line: error.line, column: error.column,
                              keyPath: path.isEmpty ? nil : path, message: error.problem)
        }
    }
}

/// The config before interpretation: top-level values by key and the `client_options`
/// defaults, each value still carrying its origin. Environment overrides are applied at this
/// level, so a bad override is reported against its variable.
struct RawSettings {
    static let topKeys = ["log_level", "log_format", "ui", "virtual_buckets", "base_url", "local_path", "local_name",
                          "client_options", "targets", "pool", "listing_cache", "viewers", "metrics_file", "credentials"]
    static let logLevels = ["TRACE", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]

    var top: [String: ConfigValue] = [:]
    /// `$TMPDIR`, under which the listing index lives by default.
    var temporaryDirectory = "/tmp"
    /// Client type (`file`, `s3`, `aioboto`) → option defaults in written order.
    var clientOptions: [String: [OptionEntry]] = [:]
    /// `AWS_CA_BUNDLE` from the environment, as botocore reads it.
    var caBundleVariable: ConfigValue?

    init(root: ConfigValue?) throws(ConfigError) {
        guard let root else { return }
        top = try root.fields(allowing: Self.topKeys)
        if let options = top.removeValue(forKey: "client_options") {
            try setClientOptions(options)
        }
    }

    /// Replaces all client defaults with those in `value` (a `{client_type: {option: value}}` mapping).
    mutating func setClientOptions(_ value: ConfigValue) throws(ConfigError) {
        clientOptions = [:]
        _ = try value.fields(allowing: ClientKind.names)  // refuses unknown client types
        for client in try value.entries() {
            let kind = ClientKind(name: client.key) ?? .s3
            var entries: [OptionEntry] = []
            for entry in try client.value.entries() {
                guard kind.optionKeys.contains(entry.key) else {
                    throw entry.value.error(kind.unknownOptionMessage, at: entry.keyMark)
                }
                entries.append(OptionEntry(key: entry.key, value: entry.value))
            }
            clientOptions[client.key] = entries
        }
    }

    func decode() throws(ConfigError) -> Config {
        var config = Config()
        if let v = present("log_level") {
            let level = try v.string().uppercased()
            guard Self.logLevels.contains(level) else {
                throw v.error("expected one of \(Self.logLevels.joined(separator: ", ")), got \(v.quoted)")
            }
            config.logLevel = level
        }
        if let v = present("log_format") {
            let text = try v.string().lowercased()
            guard let format = LogFormat(rawValue: text) else {
                throw v.error("expected one of \(LogFormat.allCases.map(\.rawValue).joined(separator: ", ")), got \(v.quoted)")
            }
            config.logFormat = format
        }
        if let v = present("ui") { config.ui = try v.bool() }
        if let v = present("virtual_buckets") { config.virtualBuckets = try v.bool() }
        if let v = present("base_url") {
            let url = try URLParts(v)
            config.baseURL = BaseURL(scheme: url.scheme, host: url.host, port: url.port,
                                     path: url.path.hasSuffix("/") ? url.path : url.path + "/")
        }
        if let v = present("local_name") { config.localName = try TargetDecoder.name(v) }
        var decoder = TargetDecoder(clientOptions: clientOptions, caBundleVariable: caBundleVariable)
        if let v = present("targets") {
            // Bucket names are case-insensitive: `a` and `A` would be one bucket listed twice.
            // (Exact repeats keep the original's last-one-wins, with a warning.)
            var seen: [String: (name: String, at: ConfigValue)] = [:]
            for item in try v.items() {
                let target = try decoder.target(item)
                let key = target.name.lowercased()
                if let first = seen[key], first.name != target.name {
                    throw item.error("target names \"\(first.name)\" (\(first.at.location)) and \"\(target.name)\" (\(item.location)) "
                                     + "differ only in case, and bucket names ignore case: rename one")
                }
                seen[key] = (target.name, item)
                config.targets.append(target)
            }
        }
        if let v = present("local_path") {
            config.localPath = try v.nonEmptyString()
            let local = try decoder.localTarget(name: config.localName, path: v)
            // The original keys targets by lower-cased name, so local_path replaces a namesake.
            config.targets.removeAll { $0.name.lowercased() == local.name.lowercased() }
            config.targets.append(local)
        }
        if let v = present("pool") { config.pool = try Self.pool(v) }
        config.listingCache = ListingCacheSettings(temporaryDirectory: temporaryDirectory)
        if let v = present("listing_cache") { try config.listingCache.decode(v) }
        if let v = present("viewers") { config.viewers = try Self.viewers(v) }
        if let v = present("metrics_file") { config.metricsFile = try v.nonEmptyString() }
        if let v = present("credentials") { config.credentials = try Self.credentials(v, targets: config.targets) }
        config.ignoredKeys = decoder.ignoredKeys
        config.warnings = Self.warnings(for: config)
        return config
    }

    /// A top-level value, unless absent or null (an empty value means "the default").
    private func present(_ key: String) -> ConfigValue? {
        guard let v = top[key], !v.isNull else { return nil }
        return v
    }

    private static func warnings(for config: Config) -> [String] {
        var warnings: [String] = []
        if config.virtualBuckets && config.baseURL == nil {
            warnings.append("virtual_buckets is true but base_url is not set; only path-style bucket URLs will work")
        }
        for target in config.targets {
            if case .s3(let o) = target.kind, o.readTimeout >= config.pool.stuckAfter {
                warnings.append("pool.stuck_after (\(config.pool.stuckAfter) s) is not above the read_timeout of target \"\(target.name)\" (\(o.readTimeout) s): a request waiting on a slow upstream is cut when its worker is replaced, before the worker can answer 504")
            }
        }
        for target in config.targets where target.isPrivate && !config.credentials.contains(where: { $0.allows(bucket: target.name) }) {
            warnings.append("target \"\(target.name)\" is private but no credential is allowed on it: every request to it is refused")
        }
        var seen: [String: Int] = [:]
        for (index, target) in config.targets.enumerated() {
            let key = target.name.lowercased()
            if let first = seen[key] {
                warnings.append("targets \(first) and \(index) are both named \"\(target.name)\" (names ignore case); requests go to the last one")
            }
            seen[key] = index
        }
        return warnings
    }
}

/// One option of a target or of a `client_options` entry, with its origin.
struct OptionEntry {
    var key: String
    var value: ConfigValue
}

/// An http or https URL split into parts; enough for `base_url` and `endpoint`.
struct URLParts {
    var scheme: String
    var host: String
    var port: Int?
    /// Starts with `/` (`/` when the URL has no path).
    var path: String

    init(_ v: ConfigValue) throws(ConfigError) {
        let text = try v.nonEmptyString()
        let bad = v.error("expected an http(s) URL, got \(v.quoted)")
        guard let schemeEnd = text.firstRange(of: "://") else { throw bad }
        scheme = text[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else { throw bad }
        let rest = text[schemeEnd.upperBound...]
        if rest.contains(where: { $0 == "?" || $0 == "#" }) { throw v.error("URL must not have a query or fragment") }
        let authority = rest.prefix { $0 != "/" }
        path = rest.count > authority.count ? String(rest.dropFirst(authority.count)) : "/"
        if authority.contains("@") { throw v.error("URL must not contain credentials") }
        var hostPart = Substring(authority)
        // The port follows the last colon, unless that colon is inside an IPv6 literal.
        if let colon = authority.lastIndex(of: ":"), !authority[colon...].contains("]") {
            hostPart = authority[..<colon]
            guard let number = Int(authority[authority.index(after: colon)...]), (1...65535).contains(number) else {
                throw v.error("URL has an invalid port")
            }
            port = number
        }
        host = hostPart.lowercased()
        guard !host.isEmpty, !host.contains(where: { $0 == " " || $0 == "\\" }) else { throw bad }
    }

    /// `scheme://host[:port]` plus the path without its trailing `/`, ready for joining.
    var withoutTrailingSlash: String {
        var s = "\(scheme)://\(host)"
        if let port { s += ":\(port)" }
        var p = Substring(path)
        while p.hasSuffix("/") { p = p.dropLast() }
        return s + p
    }
}
