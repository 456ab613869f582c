/// `base_url`, split once at load time.
public struct BaseURL: Sendable, Equatable {
    public var scheme: String
    public var host: String
    public var port: Int?
    /// Always ends with `/` (the original normalises it so).
    public var path: String

    public init(scheme: String, host: String, port: Int?, path: String) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.path = path
    }

    /// The URL as text, e.g. `https://data.example.org/`.
    public var string: String {
        var s = "\(scheme)://\(host)"
        if let port { s += ":\(port)" }
        return s + path
    }
}
