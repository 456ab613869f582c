// Fuzz target for the YAML config loader (libyaml events → tree → typed config).
@testable internal import Storage
@testable internal import X2S3Core

/// Input: YAML text, then optionally a NUL byte and `X2S3_NAME=value` environment lines.
/// Property: every input loads or fails with a ConfigError; nothing traps, nothing hangs.
func fuzzConfig(_ bytes: [UInt8]) {
    let parts = bytes.split(separator: 0, maxSplits: 1, omittingEmptySubsequences: false)
    let text = String(decoding: parts.first ?? [], as: UTF8.self)
    var environment: [String: String] = [:]
    if parts.count > 1 {
        for line in lines(Array(parts[1])) {
            guard let eq = line.firstIndex(of: "=") else { continue }
            environment[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
    }
    do {
        let config = try ConfigLoader.load(text: text, source: "fuzz.yaml", environment: environment)
        for target in config.targets { require(!target.name.isEmpty, "a target with an empty name loaded") }
    } catch {
        require(!error.description.isEmpty, "a config error without a message")
    }
}
