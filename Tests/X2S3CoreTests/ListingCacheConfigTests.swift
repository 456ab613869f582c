@testable import Storage
import Testing
@testable import X2S3Core

/// `listing_cache`: values, defaults, errors naming the key path, and the environment override.
@Suite struct ListingCacheConfigTests {
    func load(_ yaml: String, env: [String: String] = [:]) throws -> Config {
        try ConfigLoader.load(text: yaml, source: "config.yaml", environment: env)
    }

    @Test func defaultsFollowTMPDIR() throws {
        let c = try load("", env: ["TMPDIR": "/scratch"])
        #expect(c.listingCache.memoryBytes == 16 << 20)
        #expect(c.listingCache.indexBytes == 1 << 30)
        #expect(c.listingCache.indexMinEntries == 10_000)
        #expect(c.listingCache.indexPath.hasPrefix("/scratch/x2s3-"))
        #expect(c.listingCache.indexPath.hasSuffix("/listing-index"))
        #expect(try load("").listingCache.indexPath.hasPrefix("/tmp/x2s3-"))
    }

    @Test func everyKeyIsRead() throws {
        let c = try load("listing_cache:\n  memory_mb: 8\n  index_dir: /var/cache/x\n  index_max_mb: 0\n  index_min_entries: 500\n")
        #expect(c.listingCache.memoryBytes == 8 << 20)
        #expect(c.listingCache.indexPath == "/var/cache/x")
        #expect(c.listingCache.indexBytes == 0)
        #expect(c.listingCache.indexMinEntries == 500)
        #expect(try load("listing_cache:\n").listingCache == ListingCacheSettings())
    }

    @Test(arguments: [
        ("listing_cache:\n  memory_mb: 0\n", "config.yaml:2:14: listing_cache.memory_mb: must be between 1 and 65536, got 0"),
        ("listing_cache:\n  memory_mb: lots\n", #"config.yaml:2:14: listing_cache.memory_mb: expected an integer, got "lots""#),
        ("listing_cache:\n  index_max_mb: -1\n", "config.yaml:2:17: listing_cache.index_max_mb: must be between 0 and 1073741824, got -1"),
        ("listing_cache:\n  index_min_entries: 0\n", "config.yaml:2:22: listing_cache.index_min_entries: must be between 1 and 2147483647, got 0"),
        ("listing_cache:\n  index_dir: ''\n", "config.yaml:2:14: listing_cache.index_dir: must not be empty"),
        ("listing_cache:\n  index_size: 3\n", "config.yaml:2:3: listing_cache.index_size: unknown key (expected one of: memory_mb, index_dir, index_max_mb, index_min_entries)"),
        ("listing_cache: 5\n", #"config.yaml:1:16: listing_cache: expected a mapping, got "5""#),
    ])
    func badValuesNameTheKeyPath(yaml: String, message: String) {
        do {
            _ = try load(yaml)
            Issue.record("no error for \(yaml)")
        } catch {
            #expect("\(error)" == message)
        }
    }

    @Test func theEnvironmentReplacesTheMapping() throws {
        let c = try load("listing_cache:\n  memory_mb: 8\n", env: ["X2S3_LISTING_CACHE": "{index_dir: /run/x}"])
        #expect(c.listingCache.indexPath == "/run/x")
        #expect(c.listingCache.memoryBytes == 16 << 20)
        #expect(throws: ConfigError.self) { try load("", env: ["X2S3_LISTING_CACHE": "{memory_mb: x}"]) }
    }
}
