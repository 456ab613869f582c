import Foundation
import Logging
import Testing
import X2S3Core
@testable import x2s3

/// The log line formats: text (swift-log's StreamLogHandler layout) and json (ECS, as 1.6.1).
@Suite struct LineLogHandlerTests {
    static func line(_ format: LogFormat, _ message: String, level: Logger.Level = .info,
                     metadata: Logger.Metadata = [:], error: (any Error)? = nil) -> String {
        let handler = LineLogHandler(label: "x2s3", format: format)
        let event = LogEvent(level: level, message: "\(message)", error: error, metadata: metadata, source: "X2S3Core",
                             file: #fileID, function: #function, line: #line)
        var out: [UInt8] = []
        handler.render(event) { out += $0 }
        return String(decoding: out, as: UTF8.self)
    }

    static func object(_ line: String) throws -> [String: Any] {
        #expect(line.hasSuffix("\n") && line.dropLast().firstIndex(of: "\n") == nil, "one line: \(line)")
        let parsed = try JSONSerialization.jsonObject(with: Data(line.utf8))
        guard let object = parsed as? [String: Any] else { throw CocoaError(.coderReadCorrupt) }
        return object
    }

    static let request: Logger.Metadata = [
        "request.id": "ABCDEFGHIJ012345", "method": "GET", "uri": "/bucket/a%20b?response-content-type=x",
        "status": "206", "bytes": "1024", "ms": "3",
    ]

    @Test func textLineKeepsStreamLogHandlersLayout() {
        let line = Self.line(.text, "request", metadata: Self.request)
        // `<local time> <level> <label>: k=v … (sorted) [source] message`
        let afterTime = line.drop { $0 != " " }
        #expect(afterTime == " info x2s3: bytes=1024 method=GET ms=3 request.id=ABCDEFGHIJ012345 status=206 uri=/bucket/a%20b?response-content-type=x [X2S3Core] request\n")
        #expect(line.prefix(4).allSatisfy { $0.isNumber })
    }

    @Test func jsonAccessLineHasTheECSFieldsOf161() throws {
        let o = try Self.object(Self.line(.json, "request", metadata: Self.request))
        #expect(o["log.level"] as? String == "info")
        #expect(o["log.logger"] as? String == "X2S3Core")
        #expect(o["service.name"] as? String == "x2s3")
        #expect(o["service.version"] is String)
        #expect(o["process.pid"] as? Int == Int(getpid()))
        #expect(o["event.dataset"] as? String == "x2s3.access")
        #expect(o["http.request.id"] as? String == "ABCDEFGHIJ012345")
        #expect(o["trace.id"] as? String == "ABCDEFGHIJ012345")
        #expect(o["http.request.method"] as? String == "GET")
        #expect(o["url.path"] as? String == "/bucket/a%20b")
        #expect(o["url.query"] as? String == "response-content-type=x")
        #expect(o["http.response.status_code"] as? Int == 206)
        #expect(o["http.response.body.bytes"] as? Int == 1024)
        #expect(o["event.duration"] as? Int == 3_000_000)
        #expect(o["message"] as? String == "GET /bucket/a%20b?response-content-type=x 206")
        // No field twice under its old name.
        for old in ["method", "uri", "status", "bytes", "ms", "request.id"] { #expect(o[old] == nil, "\(old)") }
        let stamp = try #require(o["@timestamp"] as? String)
        #expect(stamp.count == 24 && stamp.hasSuffix("Z") && stamp.dropFirst(19).first == ".", "\(stamp)")
    }

    @Test func jsonOtherLinesCarryTheirMetadataAndError() throws {
        struct Boom: Error, CustomStringConvertible { var description: String { "boom \"quoted\"" } }
        let o = try Self.object(Self.line(.json, "worker 12 replaced", level: .warning, metadata: ["pid": "12", "message": "shadow"],
                                          error: Boom()))
        #expect(o["log.level"] as? String == "warning")
        #expect(o["message"] as? String == "worker 12 replaced")
        #expect(o["pid"] as? String == "12")
        let own = try Self.object(Self.line(.json, "x", metadata: ["pid": "\(getpid())"]))
        #expect(own["pid"] == nil && own["process.pid"] as? Int == Int(getpid()))
        #expect(o["error.message"] as? String == "boom \"quoted\"")
        #expect((o["error.type"] as? String)?.hasSuffix("Boom") == true)
        #expect(o["event.dataset"] == nil)
    }

    /// Every control character, quotes, backslashes, U+2028/9, non-ASCII and a string repaired
    /// from bytes that were not UTF-8 come back exactly, on one line.
    @Test func jsonEscapingRoundTrips() throws {
        let repaired = String(decoding: [0x61, 0xFF, 0xC3, 0x28, 0x62] as [UInt8], as: UTF8.self)
        var nasty = (0..<0x20).map { String(UnicodeScalar(UInt8($0))) }.joined()
        nasty += "\u{7F}\"\\/ \u{2028}\u{2029} é 日本 🧪 " + repaired
        let line = Self.line(.json, "m", metadata: ["uri": .string(nasty), "k\n\"ey": "v"])
        let o = try Self.object(line)
        #expect(o["uri"] as? String == nasty)
        #expect(o["k\n\"ey"] as? String == "v")
        #expect(!line.utf8.dropLast().contains { $0 < 0x20 }, "no raw control byte on the line")
        #expect(!line.contains("\u{2028}"))
    }

    @Test func jsonTimestampIsUTCWithMilliseconds() {
        #expect(JSONLogLine.timestamp(seconds: 0, milliseconds: 7) == "1970-01-01T00:00:00.007Z")
        #expect(JSONLogLine.timestamp(seconds: 1_796_533_973, milliseconds: 123) == "2026-12-06T05:12:53.123Z")
    }
}
