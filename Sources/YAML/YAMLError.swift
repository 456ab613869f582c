/// Why a text is not acceptable YAML, and where (1-based line and column; 0 when libyaml
/// could not tell).
public struct YAMLError: Error, Sendable, Equatable, CustomStringConvertible {
    public var problem: String
    public var line: Int
    public var column: Int

    public init(problem: String, line: Int, column: Int) {
        self.problem = problem
        self.line = line
        self.column = column
    }

    init(_ problem: String, at mark: YAMLNode.Mark) {
        self.init(problem: problem, line: mark.line, column: mark.column)
    }

    /// `line:column: problem`.
    public var description: String { "\(line):\(column): \(problem)" }
}
