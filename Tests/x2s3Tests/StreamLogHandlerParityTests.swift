import Logging
import Synchronization
import Testing
@testable import x2s3

/// LineLogHandler's text lines are swift-log's StreamLogHandler lines, byte for byte: the same
/// event through both handlers gives the same bytes, whatever metadata, provider, error and label.
@Suite struct StreamLogHandlerParityTests {
    final class Capture: TextOutputStream, Sendable {
        let text = Mutex("")
        func write(_ string: String) { text.withLock { $0 += string } }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String { "disk on fire" }
    }

    static let provider = Logger.MetadataProvider { ["provided": "p", "shared": "from provider", "trace": "t-1"] }

    static func event(_ message: String, level: Logger.Level = .info, metadata: Logger.Metadata? = nil,
                      error: (any Error)? = nil) -> LogEvent {
        LogEvent(level: level, message: "\(message)", error: error, metadata: metadata, source: "X2S3Core",
                 file: #fileID, function: #function, line: #line)
    }

    /// Both handlers' line for `event`; retried when the second ticks between them.
    static func lines(label: String, handlerMetadata: Logger.Metadata, provider: Logger.MetadataProvider?,
                      _ event: LogEvent) -> (ours: String, theirs: String) {
        var result = ("", "")
        for _ in 0..<3 {
            var ours = LineLogHandler(label: label)
            ours.metadata = handlerMetadata
            ours.metadataProvider = provider
            let capture = Capture()
            var theirs = StreamLogHandler(label: label, stream: capture, metadataProvider: provider)
            theirs.metadata = handlerMetadata
            var bytes: [UInt8] = []
            ours.render(event) { bytes += $0 }
            theirs.log(event: event)
            result = (String(decoding: bytes, as: UTF8.self), capture.text.withLock { $0 })
            if result.0 == result.1 { break }
        }
        return result
    }

    static let nested: Logger.Metadata = [
        "list": .array(["a", .stringConvertible(42), .dictionary(["k": "v"])]),
        "map": .dictionary(["z": "1", "a": .array([])]),
        "number": .stringConvertible(3.5),
        "spaced": "a b=c\nd",
        "": "empty key",
    ]

    @Test(arguments: [
        ("x2s3", [:] as Logger.Metadata, false, nil as Logger.Metadata?, false),
        ("x2s3", ["handler": "h", "shared": "from handler"], false, nil, false),
        ("x2s3", ["handler": "h", "shared": "from handler"], false, ["shared": "explicit", "b": "2", "a": "1"], false),
        ("x2s3", ["handler": "h", "shared": "from handler"], true, nil, false),
        ("x2s3", ["handler": "h", "shared": "from handler"], true, ["shared": "explicit", "trace": "t-2"], false),
        ("x2s3", [:], false, nil, true),
        ("x2s3", ["error.type": "mine"], true, ["error.message": "explicit"], true),
        ("x2s3", [:], false, nested, false),
        ("", ["handler": "h"], false, ["a": "1"], false),
        ("a label", [:], true, [:], false),
    ])
    func textLinesMatchStreamLogHandler(label: String, handlerMetadata: Logger.Metadata, withProvider: Bool,
                                        explicit: Logger.Metadata?, withError: Bool) {
        for level in [Logger.Level.trace, .info, .critical] {
            let event = Self.event("a message\nover two lines é", level: level, metadata: explicit,
                                   error: withError ? Failure() : nil)
            let (ours, theirs) = Self.lines(label: label, handlerMetadata: handlerMetadata,
                                            provider: withProvider ? Self.provider : nil, event)
            #expect(ours == theirs)
            #expect(ours.hasSuffix(" [X2S3Core] a message\nover two lines é\n"))
        }
    }
}
