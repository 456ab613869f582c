@testable import Auth
@testable import S3Protocol
import Glibc
import Testing
@testable import X2S3Core

/// Manual measurement (not a pass/fail test): microseconds per `SigV4Verifier.verify` of a
/// header-signed and a presigned botocore fixture, with the signing key cached as in a
/// long-lived worker. Run with `X2S3_BENCH=1 swift test -c release -Xswiftc -enable-testing
/// --filter SigV4Benchmark`.
@Suite(.serialized, .enabled(if: getenv("X2S3_BENCH") != nil, "set X2S3_BENCH=1 to measure"))
struct SigV4Benchmark {
    static let calls = 200_000

    func measure(_ c: SigV4VerifierFixtures.Case) throws {
        let credential = Credential(accessKey: SigV4VerifierFixtures.accessKey, secretKey: c.secret, buckets: nil)
        let request = SigV4Verifier.Request(method: c.method, rawPath: c.rawPath, rawQuery: c.rawQuery, headers: c.headers)
        var verifier = SigV4Verifier()
        let now = SigV4VerifierTests.now
        var ok = 0
        let elapsed = try ContinuousClock().measure {
            for _ in 0..<Self.calls where try verifier.verify(request, now: now, lookup: { _ in credential }) != nil { ok += 1 }
        }
        #expect(ok == Self.calls)
        let us = (Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12) / Double(Self.calls)
        print("SigV4Benchmark \(c.name): \((us * 100).rounded() / 100) µs per verify")
    }

    @Test func headerSigned() throws {
        try measure(SigV4VerifierFixtures.cases.first { $0.canonical != nil }!)
    }

    @Test func presigned() throws {
        try measure(SigV4VerifierFixtures.cases.first { $0.canonical == nil }!)
    }
}
