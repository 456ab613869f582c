import Glibc
import Logging

/// swift-log's `StreamLogHandler` output, byte for byte (`<time> <level> <label>: k=v … [source] msg`,
/// metadata sorted by key), at a fraction of its cost: the worker logs one line per request, and
/// StreamLogHandler's metadata merging and prettifying took ~15% of a 16 KiB GET's CPU (callgrind,
/// docs/bench.md). One `write(2)` per line to stderr, so lines from workers never interleave.
struct LineLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    init(label: String) { self.label = label }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        // Entries by key: the event's win over the provider's, which win over the handler's
        // (StreamLogHandler's precedence), without merging dictionaries.
        var entries: [(String, Logger.Metadata.Value)] = []
        let explicit = event.metadata ?? [:]
        let provided = metadataProvider?.get() ?? [:]
        entries.reserveCapacity(explicit.count + provided.count + metadata.count + 2)
        for (k, v) in explicit { entries.append((k, v)) }
        for (k, v) in provided where explicit[k] == nil { entries.append((k, v)) }
        for (k, v) in metadata where explicit[k] == nil && provided[k] == nil { entries.append((k, v)) }
        if let error = event.error {
            entries.removeAll { $0.0 == "error.message" || $0.0 == "error.type" }
            entries.append(("error.message", "\(error)"))
            entries.append(("error.type", "\(String(reflecting: type(of: error)))"))
        }
        entries.sort { $0.0 < $1.0 }

        var line: [UInt8] = []
        line.reserveCapacity(256)
        line.append(contentsOf: Self.timestamp().utf8)
        line.append(UInt8(ascii: " "))
        line.append(contentsOf: event.level.rawValue.utf8)
        if !label.isEmpty { line.append(UInt8(ascii: " ")) }
        line.append(contentsOf: label.utf8)
        line.append(UInt8(ascii: ":"))
        for (key, value) in entries {
            line.append(UInt8(ascii: " "))
            line.append(contentsOf: key.utf8)
            line.append(UInt8(ascii: "="))
            if case .string(let s) = value { line.append(contentsOf: s.utf8) } else { line.append(contentsOf: value.description.utf8) }
        }
        line.append(contentsOf: " [".utf8)
        line.append(contentsOf: event.source.utf8)
        line.append(contentsOf: "] ".utf8)
        line.append(contentsOf: event.message.description.utf8)
        line.append(UInt8(ascii: "\n"))
        line.withUnsafeBytes { ProcessControl.writeToStderr($0) }
    }

    /// Local time as StreamLogHandler prints it (`%Y-%m-%dT%H:%M:%S%z`).
    static func timestamp() -> String {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let n = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &parts)
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
