internal import CYaml

/// A libyaml event turned into Swift values at once, so no C pointer outlives the
/// `yaml_event_delete` that follows it.
enum Event {
    case streamStart
    case streamEnd
    case documentStart(YAMLNode.Mark)
    case documentEnd
    case alias(anchor: String, YAMLNode.Mark)
    case scalar(YAMLNode.Scalar, anchor: String?)
    case sequenceStart(anchor: String?, YAMLNode.Mark)
    case sequenceEnd
    case mappingStart(anchor: String?, YAMLNode.Mark)
    case mappingEnd
}

/// Sole owner of a `yaml_parser_t` and of the input bytes it points into; both are freed in
/// `deinit`. Non-copyable so the parser can never be freed twice or used after free.
struct EventReader: ~Copyable {
    // SAFETY: allocated and initialised in init, deleted and freed once in deinit; the type is non-copyable.
    private let parser: UnsafeMutablePointer<yaml_parser_t>
    /// libyaml keeps a pointer to the input instead of copying it, so the bytes must live as
    /// long as the parser does.
    // SAFETY: a copy of the input libyaml reads from; freed in deinit after the parser, so it outlives every
    //  read.
    private let input: UnsafeMutableBufferPointer<UInt8>
    /// False only when `yaml_parser_initialize` failed (out of memory).
    private let ready: Bool

    /// Wraps `yaml_parser_initialize` and `yaml_parser_set_input_string`.
    init(_ text: String) {
        parser = .allocate(capacity: 1)
        let bytes = Array(text.utf8)
        input = .allocate(capacity: max(bytes.count, 1))
        _ = input.initialize(from: bytes)
        ready = yaml_parser_initialize(parser) == 1
        if ready {
            yaml_parser_set_encoding(parser, YAML_UTF8_ENCODING)
            yaml_parser_set_input_string(parser, input.baseAddress, bytes.count)
        }
    }

    deinit {
        // yaml_parser_initialize frees its own buffers when it fails, so delete only on success.
        if ready { yaml_parser_delete(parser) }
        parser.deallocate()
        input.deallocate()
    }

    /// The next event. Wraps `yaml_parser_parse` and `yaml_event_delete`.
    mutating func next() throws(YAMLError) -> Event {
        guard ready else { throw YAMLError(problem: "cannot initialise the YAML parser", line: 0, column: 0) }
        var event = yaml_event_t()
        guard yaml_parser_parse(parser, &event) == 1 else { throw parserError() }
        defer { yaml_event_delete(&event) }
        let mark = YAMLNode.Mark(line: Int(event.start_mark.line) + 1, column: Int(event.start_mark.column) + 1)
        switch event.type {
        case YAML_STREAM_START_EVENT: return .streamStart
        case YAML_STREAM_END_EVENT: return .streamEnd
        case YAML_DOCUMENT_START_EVENT: return .documentStart(mark)
        case YAML_DOCUMENT_END_EVENT: return .documentEnd
        case YAML_ALIAS_EVENT:
            return .alias(anchor: Self.string(event.data.alias.anchor) ?? "", mark)
        case YAML_SCALAR_EVENT:
            let data = event.data.scalar
            let value = data.value.map {
                // SAFETY: libyaml's scalar value holds data.length bytes, valid until the event is deleted
                //  after this switch.
                String(decoding: UnsafeBufferPointer(start: $0, count: data.length), as: UTF8.self)
            } ?? ""
            // The parser reports no tag for untagged nodes and "!" for a quoted scalar's
            // implicit non-specific tag; only an explicit, specific tag matters to us.
            let tag = Self.string(data.tag).flatMap { $0 == "!" ? nil : $0 }
            let scalar = YAMLNode.Scalar(value, style: Self.style(data.style), tag: tag, mark: mark)
            return .scalar(scalar, anchor: Self.string(data.anchor))
        case YAML_SEQUENCE_START_EVENT:
            return .sequenceStart(anchor: Self.string(event.data.sequence_start.anchor), mark)
        case YAML_SEQUENCE_END_EVENT: return .sequenceEnd
        case YAML_MAPPING_START_EVENT:
            return .mappingStart(anchor: Self.string(event.data.mapping_start.anchor), mark)
        case YAML_MAPPING_END_EVENT: return .mappingEnd
        default:
            throw YAMLError("unexpected libyaml event \(event.type.rawValue)", at: mark)
        }
    }

    /// The parser's error, copied out while the parser is alive.
    private func parserError() -> YAMLError {
        let p = parser.pointee
        let problem = p.problem.map { String(cString: $0) } ?? "invalid YAML"
        // Reader errors (bad encoding, control characters) leave problem_mark unset.
        let at = p.error == YAML_READER_ERROR ? p.mark : p.problem_mark
        var text = problem
        if let context = p.context.map({ String(cString: $0) }) {
            text += " (\(context) started at \(p.context_mark.line + 1):\(p.context_mark.column + 1))"
        }
        return YAMLError(problem: text, line: Int(at.line) + 1, column: Int(at.column) + 1)
    }

    private static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        pointer.map { String(cString: $0) }
    }

    private static func style(_ style: yaml_scalar_style_t) -> YAMLNode.Scalar.Style {
        switch style {
        case YAML_SINGLE_QUOTED_SCALAR_STYLE: return .singleQuoted
        case YAML_DOUBLE_QUOTED_SCALAR_STYLE: return .doubleQuoted
        case YAML_LITERAL_SCALAR_STYLE: return .literal
        case YAML_FOLDED_SCALAR_STYLE: return .folded
        default: return .plain
        }
    }
}
