import Glibc
import Logging
import Synchronization
import X2S3Core

/// swift-log's `StreamLogHandler` output, byte for byte (`<time> <level> <label>: k=v … [source] msg`,
/// metadata sorted by key), at a fraction of its cost: the worker logs one line per request, and
/// StreamLogHandler's metadata merging is a visible share of a small GET's CPU.
/// One `write(2)` per line to stderr, so lines from workers never interleave.
/// With `log_format: json`, each line is instead one ECS JSON object (`JSONLogLine`).
struct LineLogHandler: LogHandler {
    let label: String
    let format: LogFormat
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    /// Shared by the copies of this handler (every `Logger` value made from it).
    private let clock = TimestampCache()

    init(label: String, format: LogFormat = .text) {
        self.label = label
        self.format = format
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        render(event) { ProcessControl.writeToStderr($0) }
    }

    /// The line for `event`, handed to `write` in one piece.
    func render(_ event: LogEvent, write: (UnsafeRawBufferPointer) -> Void) {
        // Entries by key: the event's win over the provider's, which win over the handler's
        // (StreamLogHandler's precedence), without merging dictionaries. Values are rendered as
        // they are collected; with an error, its two entries replace any of those names.
        let explicit = event.metadata ?? [:]
        let provided = metadataProvider?.get() ?? [:]
        var entries = Entries(capacity: explicit.count + provided.count + metadata.count + 2, error: event.error)
        for (k, v) in explicit { entries.add(k, v) }
        for (k, v) in provided where !Self.has(explicit, k) { entries.add(k, v) }
        for (k, v) in metadata where !Self.has(explicit, k) && !Self.has(provided, k) { entries.add(k, v) }
        if format == .json {
            var now = timespec()
            clock_gettime(CLOCK_REALTIME, &now)
            let line = JSONLogLine.render(level: event.level, source: event.source, message: event.message.description,
                                          entries: entries.entries.map { ($0.key, $0.value) }, seconds: now.tv_sec,
                                          milliseconds: now.tv_nsec / 1_000_000, pid: getpid())
            // SAFETY: write reads the bytes during the call only.
            line.withUnsafeBytes(write)
            return
        }
        let sorted = entries.sortedIndices()

        let timestamp = clock.timestamp(time(nil))
        let level = event.level.rawValue, source = event.source, message = event.message.description
        var size = timestamp.count + level.utf8.count + label.utf8.count + source.utf8.count + message.utf8.count + 8
        for entry in entries.entries { size += entry.key.utf8.count + entry.value.utf8.count + 2 }
        // One buffer sized up front, so the line's many pieces are copied without array appends.
        // SAFETY: size counts every byte appended below, and the line is written before the buffer goes.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: size) { buffer in
            var line = LineBuffer(buffer)
            timestamp.withUnsafeBufferPointer { line.append($0) }
            line.append(byte: " ")
            line.append(level)
            if !label.isEmpty { line.append(byte: " ") }
            line.append(label)
            line.append(byte: ":")
            for i in sorted {
                line.append(byte: " ")
                line.append(entries.entries[i].key)
                line.append(byte: "=")
                line.append(entries.entries[i].value)
            }
            line.append(byte: " ")
            line.append(byte: "[")
            line.append(source)
            line.append(byte: "]")
            line.append(byte: " ")
            line.append(message)
            line.append(byte: "\n")
            write(UnsafeRawBufferPointer(UnsafeMutableBufferPointer(rebasing: buffer[..<line.count])))
        }
    }

    /// `metadata[key] != nil`. A log call carries a handful of entries: comparing lengths, then
    /// bytes, beats hashing the key.
    private static func has(_ metadata: Logger.Metadata, _ key: String) -> Bool {
        guard metadata.count <= 16 else { return metadata[key] != nil }
        let length = key.utf8.count
        return metadata.keys.contains { $0.utf8.count == length && $0 == key }
    }

    /// Local time as StreamLogHandler prints it (`%Y-%m-%dT%H:%M:%S%z`).
    static func timestamp(_ now: time_t) -> [UInt8] {
        var now = now
        var parts = tm()
        localtime_r(&now, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let n = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &parts)
        return buffer[0..<n].map { UInt8(bitPattern: $0) }
    }
}

/// A line's metadata entries, values rendered, and their order by key.
private struct Entries {
    /// A struct, not a tuple: arrays of tuples are destroyed through the runtime's generic
    /// tuple witness, element by element.
    struct Entry {
        let key: String
        let value: String
    }

    private(set) var entries: [Entry] = []
    /// Each key's first eight bytes as a big-endian integer (zero-padded), with its entry: for
    /// ASCII keys this orders as String's `<` does, and sorting it moves no references.
    private var order: [(prefix: UInt64, index: Int)] = []
    private var allASCII = true
    private let error: (any Error)?

    init(capacity: Int, error: (any Error)?) {
        entries.reserveCapacity(capacity)
        order.reserveCapacity(capacity)
        self.error = error
        if let error {
            append("error.message", .string("\(error)"))
            append("error.type", .string(String(reflecting: type(of: error))))
        }
    }

    mutating func add(_ key: String, _ value: Logger.Metadata.Value) {
        if error != nil && (key == "error.message" || key == "error.type") { return }
        append(key, value)
    }

    private mutating func append(_ key: String, _ value: Logger.Metadata.Value) {
        let prefix = key.utf8.withContiguousStorageIfAvailable { bytes in
            if bytes.contains(where: { $0 >= 0x80 }) { allASCII = false }
            var prefix: UInt64 = 0
            for i in 0..<8 { prefix = prefix << 8 | UInt64(i < bytes.count ? bytes[i] : 0) }
            return prefix
        }
        if prefix == nil { allASCII = false }  // not contiguous (never, natively): String order
        order.append((prefix ?? 0, entries.count))
        if case .string(let s) = value { entries.append(Entry(key: key, value: s)) } else { entries.append(Entry(key: key, value: value.description)) }
    }

    /// The indices of `entries` ordered by key as String's `<` orders them.
    mutating func sortedIndices() -> [Int] {
        guard allASCII else { return entries.indices.sorted { entries[$0].key < entries[$1].key } }
        // Insertion sort: a line has a handful of entries.
        for i in order.indices.dropFirst() {
            let item = order[i]
            var j = i
            while j > 0 && precedes(item, order[j - 1]) {
                order[j] = order[j - 1]
                j -= 1
            }
            order[j] = item
        }
        return order.map(\.index)
    }

    private func precedes(_ a: (prefix: UInt64, index: Int), _ b: (prefix: UInt64, index: Int)) -> Bool {
        if a.prefix != b.prefix { return a.prefix < b.prefix }
        var x = entries[a.index].key, y = entries[b.index].key
        return x.withUTF8 { x in y.withUTF8 { y in x.lexicographicallyPrecedes(y) } }
    }
}

/// The bytes of a line, in a buffer sized for them.
private struct LineBuffer {
    // SAFETY: lent by render's temporary allocation; the value never leaves render.
    let buffer: UnsafeMutableBufferPointer<UInt8>
    var count = 0

    init(_ buffer: UnsafeMutableBufferPointer<UInt8>) { self.buffer = buffer }

    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        // SAFETY: render sized the buffer for every byte appended.
        count += UnsafeMutableBufferPointer(rebasing: buffer[count...]).initialize(from: bytes).1
    }

    mutating func append(byte: Unicode.Scalar) {
        buffer[count] = UInt8(ascii: byte)
        count += 1
    }

    mutating func append(_ text: String) {
        // Native strings are contiguous; the fallback is for completeness.
        if text.utf8.withContiguousStorageIfAvailable({ append($0) }) == nil {
            for b in text.utf8 {
                buffer[count] = b
                count += 1
            }
        }
    }
}

/// The last second a line was logged in, rendered: `localtime_r` + `strftime` are too dear to run
/// for every line, and a busy worker logs many lines per second.
private final class TimestampCache: Sendable {
    private let last = Mutex<(second: time_t, text: [UInt8])>((-1, []))

    func timestamp(_ now: time_t) -> [UInt8] {
        last.withLock { last in
            if last.second != now { last = (now, LineLogHandler.timestamp(now)) }
            return last.text
        }
    }
}
