import Escaping
import Glibc
import Logging

/// `log_format: json`: one JSON object per line with the Elastic Common Schema field names the
/// original x2s3 1.6.1 writes (its `log.py`): `@timestamp` (UTC, milliseconds), `log.level`,
/// `log.logger`, `message`, `service.name`, `service.version`, `process.pid`, and for a request's
/// line `event.dataset` = `x2s3.access`, `event.duration` (ns), `http.request.method`,
/// `http.response.status_code`, `http.response.body.bytes`, `url.path`, `url.query`. The request
/// id goes in `http.request.id` (ECS's field for it) and, as 1.6.1 writes it, `trace.id`.
/// Dotted keys rather than nested objects, as 1.6.1 writes them (Elasticsearch expands them).
enum JSONLogLine {
    /// The original writes its package version; this build has no release number to report.
    static let serviceVersion = "unknown"

    /// The request metadata the Dispatcher logs, by its key, and the ECS field it becomes.
    private static let numericFields: [String: String] = [
        "status": "http.response.status_code", "bytes": "http.response.body.bytes",
    ]

    /// Fields this writer sets itself: metadata of the same name is dropped (no duplicate keys).
    private static let reserved: Set<String> = [
        "@timestamp", "log.level", "log.logger", "message", "service.name", "service.version", "process.pid",
    ]

    /// The line (with its newline) for one event. `entries` are the metadata, rendered, in any
    /// order; `seconds`/`milliseconds` the wall-clock time.
    static func render(level: Logger.Level, source: String, message: String, entries: [(key: String, value: String)],
                       seconds: Int, milliseconds: Int, pid: Int32) -> [UInt8] {
        var fields: [(key: String, value: JSONValue)] = []
        var values: [String: String] = [:]
        for e in entries where !reserved.contains(e.key) { values[e.key] = e.value }
        // The pool tags its loggers with the worker's pid: process.pid already says it.
        if values["pid"] == String(pid) { values["pid"] = nil }
        var text = message
        // A request's line (Dispatcher): its metadata under ECS names.
        if let status = values["status"], let method = values["method"], let uri = values["uri"] {
            fields.append(("event.dataset", .string("x2s3.access")))
            if let ms = values.removeValue(forKey: "ms"), let n = Int(ms) { fields.append(("event.duration", .number(n * 1_000_000))) }
            values["method"] = nil
            fields.append(("http.request.method", .string(method)))
            values["uri"] = nil
            let (path, query) = split(uri)
            fields.append(("url.path", .string(path)))
            if let query, !query.isEmpty { fields.append(("url.query", .string(query))) }
            for (key, ecs) in numericFields {
                guard let v = values.removeValue(forKey: key) else { continue }
                fields.append((ecs, Int(v).map(JSONValue.number) ?? .string(v)))
            }
            // What a person reads in the message column, like 1.6.1's access line.
            text = message == "request" ? "\(method) \(uri) \(status)" : "\(message): \(method) \(uri) \(status)"
        }
        if let id = values.removeValue(forKey: "request.id") {
            fields.append(("http.request.id", .string(id)))
            fields.append(("trace.id", .string(id)))
        }
        for (k, v) in values { fields.append((k, .string(v))) }
        fields.sort { $0.key < $1.key }

        var out: [UInt8] = []
        out.reserveCapacity(256 + message.utf8.count)
        out.append(UInt8(ascii: "{"))
        appendField("@timestamp", .string(timestamp(seconds: seconds, milliseconds: milliseconds)), to: &out, first: true)
        appendField("log.level", .string(level.rawValue), to: &out)
        appendField("log.logger", .string(source), to: &out)
        appendField("message", .string(text), to: &out)
        appendField("service.name", .string("x2s3"), to: &out)
        appendField("service.version", .string(serviceVersion), to: &out)
        appendField("process.pid", .number(Int(pid)), to: &out)
        for f in fields { appendField(f.key, f.value, to: &out) }
        out.append(UInt8(ascii: "}"))
        out.append(UInt8(ascii: "\n"))
        return out
    }

    enum JSONValue {
        case string(String)
        case number(Int)
    }

    private static func appendField(_ key: String, _ value: JSONValue, to out: inout [UInt8], first: Bool = false) {
        if !first { out.append(UInt8(ascii: ",")) }
        appendString(key, to: &out)
        out.append(UInt8(ascii: ":"))
        switch value {
        case .string(let s): appendString(s, to: &out)
        case .number(let n): out.append(contentsOf: String(n).utf8)
        }
    }

    /// `s` as a JSON string (RFC 8259): `"` and `\` escaped, every control character (C0 and
    /// DEL) as an escape, so a request target can neither end the line nor colour a terminal.
    /// A Swift String is always valid Unicode (bytes that were not UTF-8 became U+FFFD when it
    /// was made), so every other scalar goes out as its UTF-8. U+2028/U+2029 are escaped too:
    /// JavaScript-based log viewers split lines on them.
    static func appendString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var scalars = s.unicodeScalars.makeIterator()
        while let u = scalars.next() {
            switch u.value {
            case 0x22: out += [0x5C, 0x22]
            case 0x5C: out += [0x5C, 0x5C]
            case 0x0A: out += [0x5C, UInt8(ascii: "n")]
            case 0x0D: out += [0x5C, UInt8(ascii: "r")]
            case 0x09: out += [0x5C, UInt8(ascii: "t")]
            case 0x08: out += [0x5C, UInt8(ascii: "b")]
            case 0x0C: out += [0x5C, UInt8(ascii: "f")]
            case 0..<0x20, 0x7F, 0x2028, 0x2029:
                out += [0x5C, UInt8(ascii: "u")]
                Hex.append(UInt64(u.value), digits: 4, to: &out)
            default:
                UTF8.encode(u) { out.append($0) }
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// `2026-12-06T05:32:53.123Z`, as 1.6.1 writes `@timestamp`.
    static func timestamp(seconds: Int, milliseconds: Int) -> String {
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let n = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S", &parts)
        let ms = String(milliseconds)
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            + "." + String(repeating: "0", count: max(0, 3 - ms.count)) + ms + "Z"
    }

    /// A REQUEST_URI's path and query.
    private static func split(_ uri: String) -> (String, String?) {
        guard let q = uri.firstIndex(of: "?") else { return (uri, nil) }
        return (String(uri[..<q]), String(uri[uri.index(after: q)...]))
    }
}
