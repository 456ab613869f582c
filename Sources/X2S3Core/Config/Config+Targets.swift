import Storage

/// The client types a target may name. A closed set: `aioboto` (the original's name, and
/// its default) and `s3` are one backend here.
enum ClientKind {
    case file, s3

    /// Every name accepted for `client` and as a `client_options` key.
    static let names = ["file", "s3", "aioboto"]

    init?(name: String) {
        switch name.lowercased() {
        case "file": self = .file
        case "s3", "aioboto": self = .s3
        default: return nil
        }
    }

    var optionKeys: [String] {
        switch self {
        case .file: return ["path", "buffer_size", "calculate_etags", "offload", "virtual_prefix"]
        case .s3: return ["bucket", "prefix", "endpoint", "access_key_path", "secret_key_path", "region",
                          "proxy_etag", "ca_bundle", "config", "max_pool_connections"]
        }
    }

    var unknownOptionMessage: String {
        let kind = self == .file ? "file" : "s3"
        return "unknown \(kind) option (expected one of: \(optionKeys.joined(separator: ", ")))"
    }

    /// `client_options` entries merged under a target of this kind, later ones winning.
    var defaultSources: [String] {
        self == .file ? ["file"] : ["aioboto", "s3"]
    }
}

/// Turns target entries into `Target`s: merges `client_options` under each target's options,
/// type-checks every option, checks paths on disk, and collects the botocore keys that
/// have no meaning here.
struct TargetDecoder {
    let clientOptions: [String: [OptionEntry]]
    /// `AWS_CA_BUNDLE`, which botocore honours: the CA file of S3 targets without `ca_bundle`.
    let caBundleVariable: ConfigValue?
    /// Key paths of accepted-but-ignored options, each once, in first-seen order.
    private(set) var ignoredKeys: [String] = []

    /// botocore `Config` parameters accepted for compatibility and ignored.
    static let ignoredBotocoreKeys = [
        "signature_version", "user_agent", "user_agent_extra", "user_agent_appid", "parameter_validation",
        "max_pool_connections", "proxies", "proxies_config", "client_cert", "inject_host_prefix",
        "use_dualstack_endpoint", "use_fips_endpoint", "ignore_configured_endpoint_urls", "tcp_keepalive",
        "request_min_compression_size_bytes", "disable_request_compression", "sigv4a_signing_region_set",
        "client_context_params", "request_checksum_calculation", "response_checksum_validation",
        "account_id_endpoint_mode", "auth_scheme_preference", "defaults_mode",
    ]
    static let ignoredBotocoreS3Keys = [
        "use_accelerate_endpoint", "payload_signing_enabled", "us_east_1_regional_endpoint",
        "use_dualstack_endpoint", "use_arn_region",
    ]

    init(clientOptions: [String: [OptionEntry]], caBundleVariable: ConfigValue? = nil) {
        self.clientOptions = clientOptions
        self.caBundleVariable = caBundleVariable
    }

    /// A bucket name: non-empty and without `/`, which could never be addressed.
    /// The first segment of x2s3's own paths, so no bucket may take it.
    static let reservedName = "_x2s3"

    static func name(_ v: ConfigValue) throws(ConfigError) -> String {
        let name = try v.nonEmptyString()
        if name.contains("/") { throw v.error("must not contain \"/\", got \(v.quoted)") }
        if name.lowercased() == reservedName {
            throw v.error("\"\(reservedName)\" is reserved for x2s3's own paths (/_x2s3/health, /_x2s3/metrics): rename the target")
        }
        return name
    }

    mutating func target(_ v: ConfigValue) throws(ConfigError) -> Target {
        let fields = try v.fields(allowing: ["name", "browseable", "private", "client", "options"])
        guard let nameValue = present(fields["name"]) else { throw v.error("missing required key name") }
        let name = try Self.name(nameValue)
        var kind = ClientKind.s3  // the original's default client, aioboto
        if let c = present(fields["client"]) {
            guard let named = ClientKind(name: try c.string()) else {
                throw c.error("unknown client \(c.quoted) (expected file, s3 or aioboto)")
            }
            kind = named
        }
        // Errors about a missing option point at `options`, or at the target when it has none.
        let context = fields["options"] ?? ConfigValue(node: v.node, path: ConfigValue.join(v.path, "options"), origin: v.origin)
        var target = try Target(name: name, kind: self.kind(kind, options: merged(kind, own: fields["options"]), context: context))
        if let b = present(fields["browseable"]) { target.browseable = try b.bool() }
        if let p = present(fields["private"]) { target.isPrivate = try p.bool() }
        return target
    }

    /// The browseable file target `local_path` adds.
    mutating func localTarget(name: String, path: ConfigValue) throws(ConfigError) -> Target {
        var options = try merged(.file, own: nil)
        upsert(OptionEntry(key: "path", value: path), into: &options)
        return Target(name: name, kind: try kind(.file, options: options, context: path))
    }

    private mutating func kind(_ kind: ClientKind, options: [OptionEntry], context: ConfigValue) throws(ConfigError) -> Target.Kind {
        var byKey: [String: ConfigValue] = [:]
        for entry in options where !entry.value.isNull { byKey[entry.key] = entry.value }
        switch kind {
        case .file: return .file(try fileOptions(byKey, context: context))
        case .s3: return .s3(try s3Options(byKey, context: context))
        }
    }

    /// `client_options` defaults for the kind, overlaid by the target's own options (a shallow
    /// merge, as the original: a target's `config` replaces the default `config` whole).
    private func merged(_ kind: ClientKind, own: ConfigValue?) throws(ConfigError) -> [OptionEntry] {
        var result: [OptionEntry] = []
        for source in kind.defaultSources {
            for entry in clientOptions[source] ?? [] { upsert(entry, into: &result) }
        }
        for entry in try own?.entries() ?? [] {
            guard kind.optionKeys.contains(entry.key) else {
                throw entry.value.error(kind.unknownOptionMessage, at: entry.keyMark)
            }
            upsert(OptionEntry(key: entry.key, value: entry.value), into: &result)
        }
        return result
    }

    private func upsert(_ entry: OptionEntry, into list: inout [OptionEntry]) {
        if let i = list.firstIndex(where: { $0.key == entry.key }) { list[i] = entry } else { list.append(entry) }
    }

    private func fileOptions(_ o: [String: ConfigValue], context: ConfigValue) throws(ConfigError) -> FileOptions {
        guard let p = o["path"] else { throw context.error("missing required option path") }
        let given = try p.nonEmptyString()
        var f = FileOptions(path: try checked(ConfigFiles.directory(given), p), configuredPath: ConfigFiles.absolute(given))
        if let v = o["buffer_size"] { f.bufferSize = try v.int(in: 1024...(16 << 20)) }
        if let v = o["calculate_etags"] { f.calculateETags = try v.bool() }
        if let v = o["offload"] { f.offload = try v.bool() }
        if let v = o["virtual_prefix"] { f.virtualPrefix = FileOptions.normalizedVirtualPrefix(try v.string()) }
        return f
    }

    private mutating func s3Options(_ o: [String: ConfigValue], context: ConfigValue) throws(ConfigError) -> S3Options {
        guard let b = o["bucket"] else { throw context.error("missing required option bucket") }
        var s = S3Options(bucket: try b.nonEmptyString())
        if let v = o["prefix"] {
            var prefix = Substring(try v.string())
            while prefix.hasPrefix("/") { prefix = prefix.dropFirst() }
            while prefix.hasSuffix("/") { prefix = prefix.dropLast() }
            s.prefix = String(prefix)
        }
        if let v = o["endpoint"] { s.endpoint = try URLParts(v).withoutTrailingSlash }
        if let v = o["max_pool_connections"] { note(v) }
        if let v = o["config"] { try botocoreConfig(v, into: &s) }
        if let v = o["region"] { s.region = try v.nonEmptyString() }
        if let v = o["proxy_etag"] { s.proxyETag = try v.bool() }
        // Checked here, so a missing or unreadable CA file stops the start with its key named
        // instead of failing every request; verification itself is never turned off.
        if let v = o["ca_bundle"] ?? caBundleVariable { s.caBundle = try readable(v) }
        switch (o["access_key_path"], o["secret_key_path"]) {
        case (let access?, let secret?):
            s.accessKeyPath = try readable(access)
            s.secretKeyPath = try readable(secret)
        case (let access?, nil):
            throw access.error("secret_key_path is required with access_key_path")
        case (nil, let secret?):
            // The original silently went anonymous here; a half-configured credential is a mistake.
            throw secret.error("access_key_path is required with secret_key_path")
        case (nil, nil):
            break
        }
        return s
    }

    /// The botocore-style `config` mapping: timeouts, retries and addressing style are used;
    /// region_name sets the region unless `region` is given; the rest is recorded as ignored.
    private mutating func botocoreConfig(_ config: ConfigValue, into s: inout S3Options) throws(ConfigError) {
        let used = ["connect_timeout", "read_timeout", "retries", "s3", "region_name"]
        let fields = try config.fields(allowing: used + Self.ignoredBotocoreKeys)
        for entry in try config.entries() where Self.ignoredBotocoreKeys.contains(entry.key) { note(entry.value) }
        if let v = present(fields["connect_timeout"]) { s.connectTimeout = try v.positiveNumber() }
        if let v = present(fields["read_timeout"]) { s.readTimeout = try v.positiveNumber() }
        if let v = present(fields["region_name"]) { s.region = try v.nonEmptyString() }
        if let retries = present(fields["retries"]) {
            let r = try retries.fields(allowing: ["max_attempts", "total_max_attempts", "mode"])
            // botocore's max_attempts counts retries, total_max_attempts counts the first try too.
            if let v = present(r["max_attempts"]) { s.maxAttempts = try v.int(in: 0...20) + 1 }
            if let v = present(r["total_max_attempts"]) { s.maxAttempts = try v.int(in: 1...21) }
            if let v = present(r["mode"]) {
                let mode = try v.string()
                guard ["legacy", "standard", "adaptive"].contains(mode) else {
                    throw v.error("expected legacy, standard or adaptive, got \(v.quoted)")
                }
                note(v)
            }
        }
        if let s3 = present(fields["s3"]) {
            let f = try s3.fields(allowing: ["addressing_style"] + Self.ignoredBotocoreS3Keys)
            for entry in try s3.entries() where entry.key != "addressing_style" { note(entry.value) }
            if let v = present(f["addressing_style"]) {
                let style = try v.string()
                guard ["auto", "path", "virtual"].contains(style) else {
                    throw v.error("expected auto, path or virtual, got \(v.quoted)")
                }
                s.addressingStyle = style
            }
        }
    }

    private func readable(_ v: ConfigValue) throws(ConfigError) -> String {
        let path = try v.nonEmptyString()
        try checked(ConfigFiles.readableFile(path), v)
        return path
    }

    private mutating func note(_ v: ConfigValue) {
        if !ignoredKeys.contains(v.path) { ignoredKeys.append(v.path) }
    }

    private func present(_ v: ConfigValue?) -> ConfigValue? {
        guard let v, !v.isNull else { return nil }
        return v
    }

    private func checked<T>(_ result: Result<T, ConfigFailure>, _ v: ConfigValue) throws(ConfigError) -> T {
        switch result {
        case .success(let value): return value
        case .failure(let failure): throw v.error(failure.message)
        }
    }
}
