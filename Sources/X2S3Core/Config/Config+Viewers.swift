/// Where the "Open in …" links of dataset folders lead (`viewers:` in the config): sites run
/// their own viewer deployments. Each value is the viewer's page URL (http or https, no query
/// or fragment); x2s3 appends what the viewer reads.
public struct ViewerSettings: Sendable, Equatable {
    /// Neuroglancer; the viewer state follows as `#!<URL-encoded JSON>`.
    public var neuroglancer = "https://neuroglancer-demo.appspot.com/"
    /// vizarr, for OME-Zarr; the image follows as `?source=<URL>`.
    public var vizarr = "https://hms-dbmi.github.io/vizarr/"

    public init() {}

    static let keys = ["neuroglancer", "vizarr"]
}

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
