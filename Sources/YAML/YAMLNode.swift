/// One node of a parsed YAML document: a scalar, a sequence or a mapping, each carrying the
/// position it started at so that a consumer can point at the offending text.
///
/// Not `indirect`: the recursive cases hold arrays, which are already boxed.
public enum YAMLNode: Sendable, Equatable {
    case scalar(Scalar)
    case sequence([YAMLNode], Mark)
    /// Entries in document order; keys are unique (the parser rejects duplicates).
    case mapping([Pair], Mark)

    /// A 1-based position in the source text (column counts characters, not bytes).
    public struct Mark: Sendable, Equatable, CustomStringConvertible {
        public var line: Int
        public var column: Int

        public init(line: Int, column: Int) {
            self.line = line
            self.column = column
        }

        /// `line:column`, the form compilers and editors understand.
        public var description: String { "\(line):\(column)" }
    }

    /// A scalar's text plus what is needed to interpret it: a quoted `"true"` and a plain
    /// `true` have the same text, and only the style tells them apart.
    public struct Scalar: Sendable, Equatable {
        public var value: String
        public var style: Style
        /// The resolved explicit tag (`!!str` becomes `tag:yaml.org,2002:str`), if any.
        public var tag: String?
        public var mark: Mark

        public init(_ value: String, style: Style = .plain, tag: String? = nil, mark: Mark) {
            self.value = value
            self.style = style
            self.tag = tag
            self.mark = mark
        }

        /// How the scalar was written.
        public enum Style: Sendable, Equatable {
            case plain, singleQuoted, doubleQuoted, literal, folded
        }

        /// True for YAML's null spellings (empty, `~`, `null`) written plain and untagged,
        /// or for anything tagged `!!null`; a quoted `"null"` is a string.
        public var isNull: Bool {
            if let tag { return tag == "tag:yaml.org,2002:null" }
            guard style == .plain else { return false }
            switch value {
            case "", "~", "null", "Null", "NULL": return true
            default: return false
            }
        }
    }

    /// One mapping entry. Keys are scalars: complex keys have no use in a config file.
    public struct Pair: Sendable, Equatable {
        public var key: Scalar
        public var value: YAMLNode

        public init(key: Scalar, value: YAMLNode) {
            self.key = key
            self.value = value
        }
    }

    /// Where this node starts.
    public var mark: Mark {
        switch self {
        case .scalar(let scalar): return scalar.mark
        case .sequence(_, let mark), .mapping(_, let mark): return mark
        }
    }

    /// The value for `key` when this is a mapping.
    public subscript(key: String) -> YAMLNode? {
        guard case .mapping(let pairs, _) = self else { return nil }
        return pairs.first { $0.key.value == key }?.value
    }

    /// A short name for the node's kind, for error messages ("expected a mapping, got a sequence").
    public var kindName: String {
        switch self {
        case .scalar(let scalar): return scalar.isNull ? "null" : "a scalar"
        case .sequence: return "a sequence"
        case .mapping: return "a mapping"
        }
    }
}
