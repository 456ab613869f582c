/// Parses YAML text (JSON included) into a `YAMLNode` tree, over libyaml's event API.
///
/// Deliberately a subset, sized for config files:
/// - one document only (a second `---` is an error, since silently ignoring it would drop config);
/// - duplicate mapping keys are an error (YAML 1.2 says so; PyYAML keeps the last one silently);
/// - mapping keys must be scalars;
/// - aliases are resolved, with a cap on the expanded size ("billion laughs");
/// - merge keys (`<<: *defaults`) are applied as PyYAML does, since the original's users may rely on them;
/// - nesting deeper than `maxDepth` is an error, so hostile input cannot exhaust the stack.
public enum YAMLParser {
    /// Deepest nesting accepted.
    public static let maxDepth = 128
    /// Most nodes a document may expand to once aliases are resolved.
    public static let maxNodes = 100_000

    /// The document's root node, or nil for a text with no document (empty or comments only).
    public static func parse(_ text: String) throws(YAMLError) -> YAMLNode? {
        var reader = EventReader(text)
        var builder = TreeBuilder()
        return try builder.document(&reader)
    }
}

/// Turns the event stream into a tree; holds the anchors seen so far and the node budget.
private struct TreeBuilder {
    private var anchors: [String: (node: YAMLNode, size: Int)] = [:]
    private var nodeCount = 0

    mutating func document(_ reader: inout EventReader) throws(YAMLError) -> YAMLNode? {
        guard case .streamStart = try reader.next() else { throw YAMLError(problem: "expected a stream", line: 1, column: 1) }
        var root: YAMLNode?
        while true {
            switch try reader.next() {
            case .streamEnd:
                return root
            case .documentStart(let mark):
                if root != nil {
                    throw YAMLError("only one YAML document is allowed; found a second one", at: mark)
                }
                let first = try reader.next()
                root = try node(first, &reader, depth: 0).node
                guard case .documentEnd = try reader.next() else {
                    throw YAMLError("expected the end of the document", at: root?.mark ?? mark)
                }
            default:
                throw YAMLError(problem: "unexpected event outside a document", line: 0, column: 0)
            }
        }
    }

    /// The node that `event` starts, and its size in nodes (for the alias budget).
    private mutating func node(
        _ event: Event, _ reader: inout EventReader, depth: Int
    ) throws(YAMLError) -> (node: YAMLNode, size: Int) {
        let built: (node: YAMLNode, size: Int)
        let anchor: String?
        switch event {
        case .scalar(let scalar, let a):
            built = (.scalar(scalar), 1)
            anchor = a
        case .alias(let name, let mark):
            guard let target = anchors[name] else { throw YAMLError("unknown alias *\(name)", at: mark) }
            try count(target.size, at: mark)
            return target
        case .sequenceStart(let a, let mark):
            built = try sequence(at: mark, &reader, depth: depth + 1)
            anchor = a
        case .mappingStart(let a, let mark):
            built = try mapping(at: mark, &reader, depth: depth + 1)
            anchor = a
        default:
            throw YAMLError(problem: "unexpected YAML structure", line: 0, column: 0)
        }
        try count(1, at: built.node.mark)
        if let anchor { anchors[anchor] = built }
        return built
    }

    private mutating func count(_ size: Int, at mark: YAMLNode.Mark) throws(YAMLError) {
        nodeCount += size
        if nodeCount > YAMLParser.maxNodes {
            throw YAMLError("document too large: more than \(YAMLParser.maxNodes) nodes once aliases are expanded", at: mark)
        }
    }

    private mutating func sequence(
        at mark: YAMLNode.Mark, _ reader: inout EventReader, depth: Int
    ) throws(YAMLError) -> (node: YAMLNode, size: Int) {
        try checkDepth(depth, at: mark)
        var items: [YAMLNode] = []
        var size = 1
        while true {
            let event = try reader.next()
            if case .sequenceEnd = event { return (.sequence(items, mark), size) }
            let item = try node(event, &reader, depth: depth)
            items.append(item.node)
            size += item.size
        }
    }

    private mutating func mapping(
        at mark: YAMLNode.Mark, _ reader: inout EventReader, depth: Int
    ) throws(YAMLError) -> (node: YAMLNode, size: Int) {
        try checkDepth(depth, at: mark)
        var pairs: [YAMLNode.Pair] = []
        var merged: [YAMLNode.Pair] = []
        var seen: [String: YAMLNode.Mark] = [:]
        var size = 1
        while true {
            let keyEvent = try reader.next()
            if case .mappingEnd = keyEvent { break }
            let key: YAMLNode.Scalar
            switch keyEvent {
            case .scalar(let scalar, _): key = scalar
            case .alias(let name, let at):
                guard case .scalar(let scalar)? = anchors[name]?.node else {
                    throw YAMLError("mapping keys must be scalars; *\(name) is not one", at: at)
                }
                key = YAMLNode.Scalar(scalar.value, style: scalar.style, tag: scalar.tag, mark: at)
            case .sequenceStart(_, let at), .mappingStart(_, let at):
                throw YAMLError("mapping keys must be scalars", at: at)
            default:
                throw YAMLError("unexpected YAML structure in a mapping", at: mark)
            }
            let value = try node(try reader.next(), &reader, depth: depth)
            size += value.size
            if key.style == .plain, key.tag == nil, key.value == "<<" {
                merged += try mergeSources(value.node)
                continue
            }
            if let first = seen[key.value] {
                throw YAMLError("duplicate key \"\(key.value)\" (first defined at \(first))", at: key.mark)
            }
            seen[key.value] = key.mark
            pairs.append(YAMLNode.Pair(key: key, value: value.node))
        }
        // Explicit keys win over merged ones, and earlier merge sources over later ones.
        for pair in merged where seen[pair.key.value] == nil {
            seen[pair.key.value] = pair.key.mark
            pairs.append(pair)
        }
        return (.mapping(pairs, mark), size)
    }

    /// The entries a `<<` value contributes: one mapping, or a sequence of mappings.
    private func mergeSources(_ value: YAMLNode) throws(YAMLError) -> [YAMLNode.Pair] {
        switch value {
        case .mapping(let pairs, _):
            return pairs
        case .sequence(let items, _):
            var all: [YAMLNode.Pair] = []
            for item in items {
                guard case .mapping(let pairs, _) = item else {
                    throw YAMLError("a merge key (<<) takes a mapping or a list of mappings", at: item.mark)
                }
                all += pairs
            }
            return all
        case .scalar(let scalar):
            throw YAMLError("a merge key (<<) takes a mapping or a list of mappings", at: scalar.mark)
        }
    }

    private func checkDepth(_ depth: Int, at mark: YAMLNode.Mark) throws(YAMLError) {
        if depth > YAMLParser.maxDepth {
            throw YAMLError("nesting deeper than \(YAMLParser.maxDepth) levels", at: mark)
        }
    }
}
