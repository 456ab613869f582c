import Browser

extension RawSettings {
    /// `viewers: {neuroglancer: URL, vizarr: URL}`; an absent key keeps its default.
    static func viewers(_ v: ConfigValue) throws(ConfigError) -> ViewerSettings {
        var viewers = ViewerSettings()
        let fields = try v.fields(allowing: ViewerSettings.keys)
        func url(_ key: String) throws(ConfigError) -> String? {
            guard let f = fields[key], !f.isNull else { return nil }
            _ = try URLParts(f)  // http(s), a host, no query or fragment: the viewer's own goes after it
            return try f.nonEmptyString()
        }
        if let u = try url("neuroglancer") { viewers.neuroglancer = u }
        if let u = try url("vizarr") { viewers.vizarr = u }
        return viewers
    }
}
