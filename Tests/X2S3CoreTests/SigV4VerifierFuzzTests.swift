@testable import Auth
@testable import S3Protocol
import Testing
@testable import X2S3Core

/// Fuzz-style: keys and secrets with hostile characters, signed by botocore (the fixtures) and
/// by x2s3's own signer, verify; the same requests with one byte changed do not.
@Suite struct SigV4VerifierFuzzTests {
    /// A deterministic generator, so a failure reproduces.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let hostile = Array(" !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~\té߷ሴ😀abcXYZ019")
    static let now = SigV4VerifierTests.now

    /// Replaces one alphanumeric byte outside any `%XX` escape with another alphanumeric byte
    /// (one that decodes to a different character, so the request really changes).
    static func flip(_ text: String, using rng: inout SplitMix) -> String? {
        var bytes = Array(text.utf8)
        let candidates = bytes.indices.filter { i in
            let b = bytes[i]
            let alnum = (b >= 48 && b <= 57) || ((b | 0x20) >= 97 && (b | 0x20) <= 122)
            let inEscape = (i >= 1 && bytes[i - 1] == UInt8(ascii: "%")) || (i >= 2 && bytes[i - 2] == UInt8(ascii: "%"))
            return alnum && !inEscape
        }
        guard let i = candidates.randomElement(using: &rng) else { return nil }
        bytes[i] = bytes[i] == UInt8(ascii: "q") ? UInt8(ascii: "w") : UInt8(ascii: "q")
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test(arguments: SigV4VerifierFixtures.cases.indices)
    func oneChangedByteInAnyPartOfABotocoreRequestIsRejected(index: Int) {
        let c = SigV4VerifierFixtures.cases[index]
        var rng = SplitMix(state: UInt64(index) &* 7919)
        let base = SigV4VerifierTests.request(c)
        var variants: [(String, SigV4Verifier.Request)] = []
        if let p = Self.flip(c.rawPath, using: &rng) { var r = base; r.rawPath = p; variants.append(("path", r)) }
        if !c.rawQuery.isEmpty, let q = Self.flip(c.rawQuery, using: &rng) { var r = base; r.rawQuery = q; variants.append(("query", r)) }
        if let h = Self.flip(c.headers["host"]!, using: &rng) { var r = base; r.headers["host"] = h; variants.append(("host", r)) }
        var r = base; r.method = c.method == "GET" ? "HEAD" : "GET"; variants.append(("method", r))
        if let auth = c.headers["authorization"], let f = Self.flip(String(auth.suffix(64)), using: &rng) {
            var r = base; r.headers["authorization"] = String(auth.dropLast(64)) + f; variants.append(("signature", r))
        }
        for (what, variant) in variants {
            let result = SigV4VerifierTests.verify(variant, secret: c.secret)
            guard case .failure = result else { Issue.record("\(c.name): changed \(what) still verifies"); continue }
        }
        #expect(variants.count >= 3)
    }

    @Test func keysSignedByOurOwnSignerVerifyAndFailWhenChanged() throws {
        var rng = SplitMix(state: 42)
        for round in 0..<200 {
            let key = String((0..<Int.random(in: 1...40, using: &rng)).map { _ in Self.hostile.randomElement(using: &rng)! })
            let secret = String((0..<40).map { _ in Array("ABCxyz0189+/=").randomElement(using: &rng)! })
            let path = "/lab/" + key
            let query: [(String, String)] = round % 2 == 0 ? [("prefix", key), ("list-type", "2")] : []
            let signed = SigV4(credentials: .init(accessKey: "AKFUZZ", secretKey: secret), region: "eu-west-\(round % 3)")
                .sign(method: "GET", host: "127.0.0.1:8080", path: path, query: query, date: Self.now)
            var headers: [String: String] = [:]
            for (n, v) in signed.headers { headers[n.lowercased()] = v }
            let request = SigV4Verifier.Request(method: "GET", rawPath: SigV4.encodePath(path),
                                                rawQuery: SigV4.canonicalQuery(query), headers: headers)
            #expect(SigV4VerifierTests.verify(request, secret: secret, accessKey: "AKFUZZ") == .success("AKFUZZ"), "\(key)")
            var changed = request
            changed.rawPath = try #require(Self.flip(request.rawPath, using: &rng))
            guard case .failure(.signatureDoesNotMatch) = SigV4VerifierTests.verify(changed, secret: secret, accessKey: "AKFUZZ") else {
                Issue.record("changed path \(changed.rawPath) verifies"); continue
            }
        }
    }

    /// Garbage in every part never crashes and never verifies.
    @Test func randomAuthorizationHeadersAndQueriesNeverVerify() {
        var rng = SplitMix(state: 7)
        let alphabet = Array("AWS4-HMAC-SHA256 Credential=/,;SignedHeaders=Signature=X-Amz-&=%0aé ")
        for _ in 0..<2000 {
            let garbage = String((0..<Int.random(in: 0...120, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })
            let header = SigV4Verifier.Request(method: "GET", rawPath: "/lab/k", rawQuery: "",
                                               headers: ["authorization": garbage, "host": "h", "x-amz-date": "20240517T093015Z"])
            let query = SigV4Verifier.Request(method: "GET", rawPath: "/lab/k", rawQuery: "X-Amz-Algorithm=" + garbage, headers: ["host": "h"])
            for r in [header, query] {
                if case .success(.some) = SigV4VerifierTests.verify(r, secret: "s") { Issue.record("\(garbage) verified") }
            }
        }
    }
}
