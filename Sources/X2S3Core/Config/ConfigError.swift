/// Why the configuration was refused, in one line a person can act on:
/// `config.yaml:12:5: targets[2].options.path: directory /nope does not exist`.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The config file's path, or the environment variable the bad value came from.
    public var source: String?
    /// Position inside `source` (1-based), when the value came from YAML text.
    public var line: Int?
    public var column: Int?
    /// Where in the config tree, e.g. `targets[2].options.path`.
    public var keyPath: String?
    public var message: String

    public init(source: String?, line: Int? = nil, column: Int? = nil, keyPath: String? = nil, message: String) {
        self.source = source
        self.line = line
        self.column = column
        self.keyPath = keyPath
        self.message = message
    }

    public var description: String {
        var parts: [String] = []
        if var location = source {
            if let line, line > 0 {
                location += ":\(line)"
                if let column, column > 0 { location += ":\(column)" }
            }
            parts.append(location)
        }
        if let keyPath, !keyPath.isEmpty { parts.append(keyPath) }
        parts.append(message)
        // Keep it to one line even when a value with a newline is quoted in the message.
        return parts.joined(separator: ": ").split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}
