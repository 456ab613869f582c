import Testing
@testable import X2S3Core

/// The `pool:` section: defaults, each key, the consistency checks and the override.
struct PoolSettingsTests {
    func load(_ yaml: String, env: [String: String] = [:]) throws -> PoolSettings {
        try ConfigLoader.load(text: yaml, source: "config.yaml", environment: env).pool
    }

    @Test func absentMeansTheDefaults() throws {
        let p = try load("")
        #expect((p.start, p.minSpare, p.maxSpare, p.maxWorkers) == (2, 1, 3, 16))
        #expect(p.stuckAfter == 90 && p.maxWait == 10)
    }

    @Test func everyKeyIsRead() throws {
        let p = try load("pool: {start: 3, min_spare: 2, max_spare: 5, max_workers: 9, stuck_after: 12.5, max_wait: 4}")
        #expect((p.start, p.minSpare, p.maxSpare, p.maxWorkers) == (3, 2, 5, 9))
        #expect(p.stuckAfter == 12.5 && p.maxWait == 4)
    }

    @Test func aSmallMaxWorkersPullsTheDefaultsDown() throws {
        let p = try load("pool: {max_workers: 1}")
        #expect((p.start, p.minSpare, p.maxSpare, p.maxWorkers) == (1, 1, 1, 1))
    }

    @Test(arguments: [
        ("pool: {start: 5, max_workers: 4}", "start (5) must not exceed max_workers (4)"),
        ("pool: {min_spare: 4, max_spare: 2}", "min_spare (4) must not exceed max_spare (2)"),
        ("pool: {max_spare: 6, max_workers: 4}", "max_spare (6) must not exceed max_workers (4)"),
        ("pool: {max_workers: 0}", "pool.max_workers"),
        ("pool: {stuck_after: -1}", "pool.stuck_after"),
        ("pool: {max_wait: soon}", "pool.max_wait"),
        ("pool: {min_workers: 2}", "unknown key"),
    ])
    func inconsistentOrWrongValuesAreErrorsNamingTheKey(yaml: String, expected: String) {
        let message = configFailure(yaml)
        #expect(message?.contains(expected) == true, "\(message ?? "loaded")")
    }

    @Test func theEnvironmentReplacesTheSection() throws {
        let p = try load("pool: {max_workers: 4}", env: ["X2S3_POOL": "{max_workers: 6, start: 6}"])
        #expect(p.maxWorkers == 6 && p.start == 6)
    }
}

extension PoolSettingsTests {
    @Test func aStuckAfterBelowAnUpstreamReadTimeoutIsWarnedAbout() throws {
        func yaml(readTimeout: Int) -> String {
            """
            pool: {stuck_after: 30}
            targets:
              - name: up
                client: s3
                options: {bucket: b, endpoint: 'http://127.0.0.1:9', config: {read_timeout: \(readTimeout)}}
            """
        }
        let config = try ConfigLoader.load(text: yaml(readTimeout: 45), source: "config.yaml", environment: [:])
        #expect(config.warnings.contains { $0.contains("pool.stuck_after") && $0.contains("\"up\"") })
        let fine = try ConfigLoader.load(text: yaml(readTimeout: 20), source: "config.yaml", environment: [:])
        #expect(!fine.warnings.contains { $0.contains("pool.stuck_after") })
    }
}
