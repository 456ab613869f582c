import Storage

extension ListingCacheSettings {
    static let keys = ["memory_mb", "index_dir", "index_max_mb", "index_min_entries"]

    /// Reads the `listing_cache` mapping over the defaults.
    mutating func decode(_ value: ConfigValue) throws(ConfigError) {
        let f = try value.fields(allowing: Self.keys)
        func present(_ key: String) -> ConfigValue? { f[key].flatMap { $0.isNull ? nil : $0 } }
        if let v = present("memory_mb") { memoryBytes = try v.int(in: 1...65536) << 20 }
        if let v = present("index_dir") { indexPath = try v.nonEmptyString() }
        if let v = present("index_max_mb") { indexBytes = try v.int(in: 0...(1 << 30)) << 20 }
        if let v = present("index_min_entries") { indexMinEntries = try v.int(in: 1...Int(Int32.max)) }
    }
}
