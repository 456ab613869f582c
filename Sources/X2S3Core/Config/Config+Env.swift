import S3Protocol

/// `X2S3_*` environment overrides, as pydantic-settings applied them in the original:
/// names are case-insensitive, scalars replace the file's values, `X2S3_TARGETS` (JSON or
/// YAML flow text) replaces the whole list (`X2S3_LISTING_CACHE` likewise its mapping), and `X2S3_CLIENT_OPTIONS__<client>__<option>`
/// sets one client default. Unlike the original, values are type-checked like file values.
///
/// An empty variable counts as unset: deployment tools often export `X2S3_LOCAL_PATH=` for
/// "not given", and the original would have served the current directory for it.
/// Other `X2S3_*` names (`X2S3_CONFIG`, the executable's own) are left alone.
extension RawSettings {
    static let scalarOverrides = ["log_level", "log_format", "ui", "virtual_buckets", "base_url", "local_path", "local_name", "metrics_file"]
    private static let clientOptionPrefix = "client_options__"

    mutating func applyEnvironment(_ environment: [String: String]) throws(ConfigError) {
        if let bundle = environment["AWS_CA_BUNDLE"], !bundle.isEmpty {
            caBundleVariable = .variable("AWS_CA_BUNDLE", bundle, path: "AWS_CA_BUNDLE")
        }
        // Sorted so the outcome never depends on dictionary order, and so X2S3_CLIENT_OPTIONS
        // (a whole replacement) comes before the X2S3_CLIENT_OPTIONS__… refinements.
        let variables = environment
            .filter { $0.key.uppercased().hasPrefix("X2S3_") && !$0.value.isEmpty }
            .sorted { $0.key.uppercased() < $1.key.uppercased() }
        for (name, value) in variables {
            let key = String(name.dropFirst(5)).lowercased()
            if Self.scalarOverrides.contains(key) {
                top[key] = .variable(name, value, path: key)
            } else if key == "targets" || key == "pool" || key == "listing_cache" || key == "viewers" {
                top[key] = try Self.parse(variable: name, value, path: key)
            } else if key == "client_options" {
                if let options = try Self.parse(variable: name, value, path: key) { try setClientOptions(options) }
            } else if key.hasPrefix(Self.clientOptionPrefix) {
                try setClientOption(variable: name, value, key.dropFirst(Self.clientOptionPrefix.count))
            }
        }
    }

    /// `X2S3_CLIENT_OPTIONS__<client>__<option>=value`. The `config` option takes flow YAML
    /// (`{connect_timeout: 5}`); deeper `__` paths are refused rather than half-merged.
    private mutating func setClientOption(variable name: String, _ value: String, _ rest: Substring) throws(ConfigError) {
        let parts = rest.split(separator: "__", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2, let kind = ClientKind(name: parts[0]), !parts[1].isEmpty else {
            if parts.count > 2, ClientKind(name: parts[0]) != nil, parts[1] == "config" {
                throw ConfigError(source: name, message: "set the whole config mapping instead, as YAML or JSON: X2S3_CLIENT_OPTIONS__\(parts[0])__config='{\(parts[2]): …}'")
            }
            throw ConfigError(source: name, message: "expected X2S3_CLIENT_OPTIONS__<file|s3|aioboto>__<option>")
        }
        let client = parts[0], option = parts[1]
        guard kind.optionKeys.contains(option) else {
            throw ConfigError(source: name, message: kind.unknownOptionMessage)
        }
        let path = "client_options.\(client).\(option)"
        let parsed = option == "config"
            ? try Self.parse(variable: name, value, path: path)
            : .variable(name, value, path: path)
        guard let parsed else { return }
        var entries = clientOptions[client] ?? []
        entries.removeAll { $0.key == option }
        entries.append(OptionEntry(key: option, value: parsed))
        clientOptions[client] = entries
    }

    /// A variable holding YAML (JSON included); errors point into its text.
    private static func parse(variable name: String, _ value: String, path: String) throws(ConfigError) -> ConfigValue? {
        try ConfigLoader.parse(value, source: name, path: path)
    }
}
