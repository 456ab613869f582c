import Testing
import YAML

/// Syntax-level behaviour of `YAMLParser`: what trees come out and where errors point.
struct YAMLParserTests {
    private func parse(_ text: String) throws -> YAMLNode {
        try #require(try YAMLParser.parse(text))
    }

    private func error(_ text: String) -> YAMLError? {
        do {
            _ = try YAMLParser.parse(text)
            return nil
        } catch {
            return error
        }
    }

    private func scalar(_ node: YAMLNode?) -> YAMLNode.Scalar? {
        if case .scalar(let s)? = node { return s }
        return nil
    }

    @Test func emptyTextHasNoDocument() throws {
        #expect(try YAMLParser.parse("") == nil)
        #expect(try YAMLParser.parse("# only a comment\n") == nil)
    }

    @Test func explicitEmptyDocumentIsANullScalar() throws {
        let node = try parse("---\n")
        #expect(scalar(node)?.isNull == true)
    }

    @Test(arguments: [
        ("a: hello", "hello", YAMLNode.Scalar.Style.plain),
        ("a: 'it''s'", "it's", .singleQuoted),
        ("a: \"tab\\there\"", "tab\there", .doubleQuoted),
        ("a: |\n  line1\n  line2\n", "line1\nline2\n", .literal),
        ("a: >\n  one\n  two\n", "one two\n", .folded),
        ("a: 42", "42", .plain),
        ("a: héllo wörld", "héllo wörld", .plain),
    ])
    func scalarValuesAndStylesAreKept(text: String, value: String, style: YAMLNode.Scalar.Style) throws {
        let s = try #require(scalar(try parse(text)["a"]))
        #expect(s.value == value)
        #expect(s.style == style)
    }

    @Test func quotedTrueIsDistinguishableFromPlainTrue() throws {
        let node = try parse("plain: true\nquoted: \"true\"\n")
        #expect(scalar(node["plain"])?.style == .plain)
        #expect(scalar(node["quoted"])?.style == .doubleQuoted)
        #expect(scalar(node["quoted"])?.value == "true")
    }

    @Test(arguments: [
        ("a:", true), ("a: ~", true), ("a: null", true), ("a: NULL", true),
        ("a: 'null'", false), ("a: \"\"", false), ("a: nil", false), ("a: !!null x", true),
    ])
    func nullSpellingsAreRecognisedOnlyWhenPlain(text: String, isNull: Bool) throws {
        #expect(scalar(try parse(text)["a"])?.isNull == isNull)
    }

    @Test func explicitTagIsResolved() throws {
        #expect(scalar(try parse("a: !!str 12")["a"])?.tag == "tag:yaml.org,2002:str")
        #expect(scalar(try parse("a: '12'")["a"])?.tag == nil)
    }

    @Test func nestingKeepsOrderAndMarks() throws {
        let text = """
        top: 1
        targets:
          - name: a
            options:
              path: /tmp
          - name: b
        """
        let root = try parse(text)
        guard case .mapping(let pairs, let rootMark) = root else { Issue.record("not a mapping"); return }
        #expect(pairs.map(\.key.value) == ["top", "targets"])
        #expect(rootMark == .init(line: 1, column: 1))
        guard case .sequence(let items, let seqMark)? = root["targets"] else { Issue.record("not a sequence"); return }
        #expect(items.count == 2)
        #expect(seqMark == .init(line: 3, column: 3))
        let path = try #require(scalar(items[0]["options"]?["path"]))
        #expect(path.value == "/tmp")
        #expect(path.mark == .init(line: 5, column: 13))
        #expect(items[1]["name"]?.mark == .init(line: 6, column: 11))
    }

    @Test func jsonFlowStyleParses() throws {
        let root = try parse(#"[{"name": "a", "options": {"path": "/tmp", "n": 3}}, {"name": "b"}]"#)
        guard case .sequence(let items, _) = root else { Issue.record("not a sequence"); return }
        #expect(items.count == 2)
        #expect(scalar(items[0]["name"])?.value == "a")
        #expect(scalar(items[0]["name"])?.style == .doubleQuoted)
        #expect(scalar(items[0]["options"]?["n"])?.value == "3")
        #expect(scalar(items[1]["name"])?.value == "b")
    }

    @Test func yamlFlowStyleParses() throws {
        let root = try parse("{a: [1, 2, {b: c}], d: e}")
        guard case .sequence(let items, _)? = root["a"] else { Issue.record("not a sequence"); return }
        #expect(items.count == 3)
        #expect(scalar(items[2]["b"])?.value == "c")
    }

    @Test(arguments: [
        ("a: 1\nb: 2\na: 3\n", 3, 1, "duplicate key \"a\" (first defined at 1:1)"),
        ("x:\n  k: 1\n  k: 2\n", 3, 3, "duplicate key \"k\" (first defined at 2:3)"),
        ("{\"k\": 1, \"k\": 2}", 1, 10, "duplicate key \"k\" (first defined at 1:2)"),
    ])
    func duplicateKeysAreRejectedWithBothPositions(text: String, line: Int, column: Int, problem: String) throws {
        let e = try #require(error(text))
        #expect(e.line == line)
        #expect(e.column == column)
        #expect(e.problem == problem)
    }

    @Test func tabIndentationIsAnErrorAtTheTab() throws {
        let e = try #require(error("a:\n\tb: 1\n"))
        #expect(e.line == 2)
        #expect(e.column == 1)
        #expect(e.problem.contains("cannot start any token"))
    }

    @Test func tabInsideAValueIsFine() throws {
        #expect(scalar(try parse("a: x\ty")["a"])?.value == "x\ty")
    }

    @Test(arguments: [
        ("a: [1, 2\n", 2, 1),
        ("a: b\n  c: d\n", 2, 4),
        ("a: 'unterminated\n", 2, 1),
        ("- a\nb: c\n", 2, 1),
    ])
    func syntaxErrorsCarryLineAndColumn(text: String, line: Int, column: Int) throws {
        let e = try #require(error(text))
        #expect(e.line == line)
        #expect(e.column == column)
        #expect(e.description.hasPrefix("\(line):\(column): "))
    }

    @Test func aSecondDocumentIsRejected() throws {
        let e = try #require(error("a: 1\n---\nb: 2\n"))
        #expect(e.line == 2)
        #expect(e.problem.contains("only one YAML document"))
    }

    @Test func aliasesResolveToTheAnchoredNode() throws {
        let root = try parse("base: &b {x: 1}\ncopy: *b\n")
        #expect(root["copy"] == root["base"])
    }

    @Test func unknownAliasIsAnError() throws {
        let e = try #require(error("a: *nope\n"))
        #expect(e.problem == "unknown alias *nope")
        #expect(e.line == 1 && e.column == 4)
    }

    @Test func mergeKeysFillInMissingEntries() throws {
        let root = try parse("d: &d {a: 1, b: 2}\nm:\n  <<: *d\n  b: 3\n")
        guard case .mapping(let pairs, _)? = root["m"] else { Issue.record("not a mapping"); return }
        #expect(pairs.map(\.key.value) == ["b", "a"])
        #expect(scalar(root["m"]?["b"])?.value == "3")
        #expect(scalar(root["m"]?["a"])?.value == "1")
    }

    @Test func aliasExpansionBombIsRejected() throws {
        var text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for i in 1...6 {
            let refs = Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ")
            text += "a\(i): &a\(i) [\(refs)]\n"
        }
        let e = try #require(error(text))
        #expect(e.problem.hasPrefix("document too large"))
    }

    @Test func deepNestingIsRejected() throws {
        let text = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
        let e = try #require(error(text))
        #expect(e.problem.hasPrefix("nesting deeper"))
    }

    @Test func complexKeysAreRejected() throws {
        let e = try #require(error("? [a, b]\n: 1\n"))
        #expect(e.problem == "mapping keys must be scalars")
    }

    @Test func controlCharactersAreAReaderError() throws {
        let e = try #require(error("a: b\u{7}\n"))
        #expect(e.problem.contains("control characters"))
    }

    /// A cheap, deterministic stand-in for a fuzzer: every mutation of a realistic config
    /// must either parse or throw, never crash or hang.
    @Test func mutatedInputEitherParsesOrThrows() {
        let seed = Array("""
        log_level: INFO
        targets:
          - name: "a"
            options: {path: /tmp, list: [1, 'two', &x three, *x]}
          - <<: {k: v}
            name: b
        """.utf8)
        let alphabet = Array("{}[]:,-&*!|>'\"#%@` \t\n?<=~".utf8)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func random(_ bound: Int) -> Int {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int((z ^ (z >> 31)) % UInt64(bound))
        }
        var outcomes = (parsed: 0, rejected: 0)
        for _ in 0..<3000 {
            var bytes = seed
            for _ in 0...random(4) {
                let at = random(bytes.count)
                switch random(3) {
                case 0: bytes[at] = alphabet[random(alphabet.count)]
                case 1: bytes.insert(alphabet[random(alphabet.count)], at: at)
                default: bytes.remove(at: at)
                }
            }
            do {
                _ = try YAMLParser.parse(String(decoding: bytes, as: UTF8.self))
                outcomes.parsed += 1
            } catch {
                #expect(error.line >= 0 && error.column >= 0)
                outcomes.rejected += 1
            }
        }
        #expect(outcomes.parsed > 0 && outcomes.rejected > 0)
    }
}
