// STUB — drop on merge. Stand-ins for the real Dispatcher and ConfigLoader (written in parallel by
// the lead) so the FastCGI glue and the x2s3 executable can be built and tested end to end.
public import Logging
import Glibc

/// Why a configuration could not be loaded (stub: a path that cannot be read, or a file containing
/// `!invalid`, which lets the SIGHUP tests provoke a reload failure).
public struct ConfigError: Error, CustomStringConvertible {
    public let description: String
}

/// Stub of the real loader: same signatures, no YAML.
public enum ConfigLoader {
    /// `--config`, else `X2S3_CONFIG`, else `./config.yaml`; `explicit` is false only for the fallback.
    public static func resolvePath(argument: String?, environment: [String: String]) -> (path: String, explicit: Bool) {
        if let argument { return (argument, true) }
        if let env = environment["X2S3_CONFIG"], !env.isEmpty { return (env, true) }
        return ("./config.yaml", false)
    }

    /// Reads the file (if any) only to check it exists and is not marked `!invalid`.
    public static func load(path: String?, environment: [String: String]) throws(ConfigError) -> Config {
        var config = Config()
        if let level = environment["X2S3_LOG_LEVEL"] { config.logLevel = level }
        guard let path else { return config }
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw ConfigError(description: "\(path): cannot open (errno \(errno))") }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            bytes += buffer[0..<n]
        }
        if String(decoding: bytes, as: UTF8.self).contains("!invalid") {
            throw ConfigError(description: "\(path): line 1: stub says invalid")
        }
        return config
    }
}

/// Stub dispatcher: `hello <REQUEST_URI>`; `/big` streams 64 MiB of zeros in 64 KiB writes;
/// `/16k` answers 16 KiB of zeros (for comparing the FastCGI glue with a C responder).
public struct Dispatcher {
    private let logger: Logger
    private let zeros = [UInt8](repeating: 0, count: 65536)

    public init(config: Config, logger: Logger) {
        self.logger = logger
    }

    /// Answers one request; never throws.
    public mutating func handle<S: ResponseSink>(params: [String: String], sink: inout S) {
        let uri = params["REQUEST_URI"] ?? ""
        do {
            if uri.hasPrefix("/big") {
                var head = "Status: 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: \(64 << 20)\r\n\r\n"
                try head.withUTF8 { try sink.write(UnsafeRawBufferPointer($0)) }
                for _ in 0..<1024 {
                    try zeros.withUnsafeBytes { try sink.write($0) }
                }
            } else if uri.hasPrefix("/16k") {
                var head = "Status: 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 16384\r\n\r\n"
                try head.withUTF8 { try sink.write(UnsafeRawBufferPointer($0)) }
                try zeros.withUnsafeBytes { try sink.write(UnsafeRawBufferPointer(rebasing: $0[..<16384])) }
            } else {
                var text = "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nhello \(uri)"
                try text.withUTF8 { try sink.write(UnsafeRawBufferPointer($0)) }
            }
            try sink.flush()
        } catch {
            logger.debug("client went away", metadata: ["uri": "\(uri)"])
        }
    }
}
