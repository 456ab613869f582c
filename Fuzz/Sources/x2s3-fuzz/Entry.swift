// The libFuzzer entry points. One binary, several targets: X2S3_FUZZ_TARGET names the one
// to run (scripts/fuzz sets it). A property violation calls `fatalError`, which libFuzzer
// records as a crash with the input that caused it.
internal import Glibc

/// The fuzz targets by name. Each takes the raw input bytes and must never crash.
let targetNames = ["request", "dispatch", "range", "conditional", "token", "config", "escape"]

/// Runs target `name` on one input; false for an unknown name. libFuzzer calls in on the
/// main thread, so the targets are main-actor isolated and may keep per-process fixtures.
@MainActor
func run(_ name: String, _ bytes: [UInt8]) -> Bool {
    switch name {
    case "request": fuzzRequest(bytes)
    case "dispatch": fuzzDispatch(bytes)
    case "range": fuzzRange(bytes)
    case "conditional": fuzzConditional(bytes)
    case "token": fuzzToken(bytes)
    case "config": fuzzConfig(bytes)
    case "escape": fuzzEscape(bytes)
    default: return false
    }
    return true
}

func selectedName() -> String {
    guard let raw = getenv("X2S3_FUZZ_TARGET") else { return "" }
    return String(cString: raw)
}

@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    guard targetNames.contains(selectedName()) else {
        fatalError("set X2S3_FUZZ_TARGET to one of: \(targetNames.joined(separator: ", "))")
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size > 0 && data != nil ? Array(UnsafeBufferPointer(start: data, count: size)) : []
    let name = selectedName()
    MainActor.assumeIsolated { _ = run(name, bytes) }
    return 0
}

/// Lines of the input as strings (invalid UTF-8 becomes U+FFFD, as a FastCGI param copy would
/// not, so targets that care about raw bytes use `bytes` directly).
func lines(_ bytes: [UInt8]) -> [String] {
    bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
}

/// Stops the run with a message naming the property that failed.
func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("property violated: \(message())") }
}
