import YAML

/// A config value together with where it came from (file or environment variable) and its
/// key path, so that every type error can name the exact spot without the caller's help.
struct ConfigValue {
    /// Where a value was written.
    struct Origin: Equatable {
        /// The config file's path or the environment variable's name.
        var source: String
        /// False for a bare environment value: a line and column in it mean nothing, and the
        /// variable's name already says which key it sets.
        var hasPositions: Bool
    }

    var node: YAMLNode
    var path: String
    var origin: Origin

    /// An environment variable's value, taken as a string scalar.
    static func variable(_ name: String, _ value: String, path: String) -> ConfigValue {
        let scalar = YAMLNode.Scalar(value, style: .doubleQuoted, mark: .init(line: 0, column: 0))
        return ConfigValue(node: .scalar(scalar), path: path, origin: .init(source: name, hasPositions: false))
    }

    func error(_ message: String, at mark: YAMLNode.Mark? = nil) -> ConfigError {
        guard origin.hasPositions else { return ConfigError(source: origin.source, message: message) }
        let at = mark ?? node.mark
        return ConfigError(source: origin.source, line: at.line, column: at.column, keyPath: path, message: message)
    }

    /// Where the value was written, for messages that name two places: `file:line:column`, or
    /// the variable's name for a bare environment value.
    var location: String {
        origin.hasPositions ? "\(origin.source):\(node.mark.line):\(node.mark.column)" : origin.source
    }

    /// A child value, inheriting the origin.
    func child(_ node: YAMLNode, path: String) -> ConfigValue {
        ConfigValue(node: node, path: path, origin: origin)
    }

    var isNull: Bool {
        if case .scalar(let s) = node { return s.isNull }
        return false
    }

    /// The value as error messages quote it: `"abc"` for a scalar, `a mapping` otherwise.
    var quoted: String {
        switch node {
        case .scalar(let s) where s.isNull: return "null"
        case .scalar(let s):
            let shown = s.value.count > 60 ? String(s.value.prefix(60)) + "…" : s.value
            return "\"\(shown)\""
        default: return node.kindName
        }
    }

    private func scalarText(expected: String) throws(ConfigError) -> String {
        guard case .scalar(let s) = node, !s.isNull else { throw error("expected \(expected), got \(quoted)") }
        return s.value
    }

    func string() throws(ConfigError) -> String {
        try scalarText(expected: "a string")
    }

    /// A string that must not be empty (after trimming nothing: spaces are legal in paths).
    func nonEmptyString() throws(ConfigError) -> String {
        let s = try string()
        if s.isEmpty { throw error("must not be empty") }
        return s
    }

    /// YAML 1.1 booleans in any case, quoted or not (the original's own tests pass the
    /// string 'true'), plus 1/0 as pydantic accepted them from the environment.
    func bool() throws(ConfigError) -> Bool {
        let text = try scalarText(expected: "a boolean")
        switch text.lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        default: throw error("expected a boolean, got \(quoted)")
        }
    }

    /// A decimal integer, quoted or not (environment values are always strings).
    func int(in range: ClosedRange<Int>? = nil) throws(ConfigError) -> Int {
        let text = try scalarText(expected: "an integer")
        guard let value = Int(text.replacingUnderscores()) else { throw error("expected an integer, got \(quoted)") }
        if let range, !range.contains(value) {
            throw error("must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
        }
        return value
    }

    /// A finite number (integer or decimal), quoted or not, greater than zero.
    func positiveNumber() throws(ConfigError) -> Double {
        let text = try scalarText(expected: "a number")
        guard let value = Double(text.replacingUnderscores()), value.isFinite else {
            throw error("expected a number, got \(quoted)")
        }
        if value <= 0 { throw error("must be greater than 0, got \(text)") }
        return value
    }

    /// Entries of a mapping in order; null counts as empty (`options:` with nothing under it).
    func entries() throws(ConfigError) -> [(key: String, keyMark: YAMLNode.Mark, value: ConfigValue)] {
        if isNull { return [] }
        guard case .mapping(let pairs, _) = node else { throw error("expected a mapping, got \(quoted)") }
        return pairs.map { pair in
            (pair.key.value, pair.key.mark, child(pair.value, path: Self.join(path, pair.key.value)))
        }
    }

    /// The mapping's values by key, refusing any key not in `allowed` so a typo cannot
    /// silently fall back to a default.
    func fields(allowing allowed: [String]) throws(ConfigError) -> [String: ConfigValue] {
        var result: [String: ConfigValue] = [:]
        for entry in try entries() {
            guard allowed.contains(entry.key) else {
                throw entry.value.error("unknown key (expected one of: \(allowed.joined(separator: ", ")))", at: entry.keyMark)
            }
            result[entry.key] = entry.value
        }
        return result
    }

    /// Items of a sequence; null counts as empty (`targets:` with every entry commented out).
    func items() throws(ConfigError) -> [ConfigValue] {
        if isNull { return [] }
        guard case .sequence(let nodes, _) = node else { throw error("expected a list, got \(quoted)") }
        return nodes.enumerated().map { child($0.element, path: "\(path)[\($0.offset)]") }
    }

    static func join(_ path: String, _ key: String) -> String {
        path.isEmpty ? key : "\(path).\(key)"
    }
}

extension String {
    /// YAML 1.1 allows `1_000_000`; Swift's parsers do not.
    fileprivate func replacingUnderscores() -> String {
        contains("_") ? String(filter { $0 != "_" }) : self
    }
}
