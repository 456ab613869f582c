@testable import Auth
@testable import S3Protocol
import Testing
@testable import X2S3Core

/// The accept-only paths (`acceptSignedHeader`) against the full verifier: whatever a fast path
/// accepts, the full one accepts with the same credential; and the fast paths do take what the
/// SDKs send, or they would be dead weight.
@Suite struct SigV4FastPathTests {
    typealias Fixtures = SigV4VerifierFixtures
    static let now = SigV4VerifierTests.now

    static func credential(_ secret: String, _ accessKey: String) -> Credential {
        Credential(accessKey: accessKey, secretKey: secret, buckets: nil)
    }

    /// The fast paths alone.
    static func fast(_ r: SigV4Verifier.Request, secret: String, accessKey: String = Fixtures.accessKey,
                     now: Int64 = now) -> String? {
        var verifier = SigV4Verifier()
        let c = credential(secret, accessKey)
        return verifier.acceptFast(r, header: r.headers["authorization"], now: now) { $0 == accessKey ? c : nil }?.accessKey
    }

    /// The full verifier alone (the same preconditions as `verify`).
    static func full(_ r: SigV4Verifier.Request, secret: String, accessKey: String = Fixtures.accessKey,
                     now: Int64 = now) -> Result<String?, S3Error> {
        var verifier = SigV4Verifier()
        let c = credential(secret, accessKey)
        let items = r.decodedQuery
        do {
            return .success(try verifier.verifyInFull(r, header: r.headers["authorization"], items: items,
                                                      presigned: SigV4Verifier.hasSignatureParameters(items), now: now) {
                $0 == accessKey ? c : nil
            }?.accessKey)
        } catch {
            return .failure(error)
        }
    }

    /// Fails the test when the fast path accepts what the full verifier does not; returns
    /// whether the fast path accepted.
    @discardableResult
    static func agree(_ r: SigV4Verifier.Request, secret: String, accessKey: String = Fixtures.accessKey,
                      now: Int64 = now, _ what: @autoclosure () -> String) -> Bool {
        guard let accepted = fast(r, secret: secret, accessKey: accessKey, now: now) else { return false }
        let verdict = full(r, secret: secret, accessKey: accessKey, now: now)
        #expect(verdict == .success(accepted), "fast path accepted \(what()); the full verifier says \(verdict)")
        return true
    }

    @Test func everyBotocoreFixtureTakesTheFastPath() {
        var taken = (header: 0, presigned: 0)
        for c in Fixtures.cases {
            let r = SigV4VerifierTests.request(c)
            #expect(Self.agree(r, secret: c.secret, c.name), "\(c.name): the fast path did not take botocore's signature")
            if c.headers["authorization"] != nil { taken.header += 1 } else { taken.presigned += 1 }
        }
        #expect(taken.header >= 20 && taken.presigned >= 5)
    }

    @Test func bothFormsAtOnceAreLeftToTheFullVerifier() throws {
        let header = try #require(Fixtures.cases.first { $0.headers["authorization"] != nil })
        let presigned = try #require(Fixtures.cases.first { $0.headers["authorization"] == nil })
        var r = SigV4VerifierTests.request(presigned)
        r.headers["authorization"] = header.headers["authorization"]
        r.headers["x-amz-date"] = header.headers["x-amz-date"]
        #expect(Self.fast(r, secret: header.secret) == nil)
        guard case .failure(.invalidArgument) = Self.full(r, secret: header.secret) else {
            Issue.record("both forms at once were not refused")
            return
        }
    }

    static let alphabet: [UInt8] = Array(" \t,;/=:&%+AZaz09fg-_.~\u{7F}".utf8) + Array("é".utf8)

    /// Replaces, inserts or deletes bytes at random places.
    static func mutate(_ text: String, using rng: inout SigV4VerifierFuzzTests.SplitMix) -> String {
        var bytes = Array(text.utf8)
        for _ in 0..<Int.random(in: 1...3, using: &rng) {
            let i = Int.random(in: 0...bytes.count, using: &rng)
            switch Int.random(in: 0..<3, using: &rng) {
            case 0 where i < bytes.count: bytes[i] = alphabet.randomElement(using: &rng)!
            case 1 where i < bytes.count: bytes.remove(at: i)
            default: bytes.insert(alphabet.randomElement(using: &rng)!, at: i)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A presigned query with one item repeated, or two items' values swapped.
    static func swapOrDuplicate(_ query: String, using rng: inout SigV4VerifierFuzzTests.SplitMix) -> String {
        var items = query.split(separator: "&").map(String.init)
        let i = Int.random(in: 0..<items.count, using: &rng), j = Int.random(in: 0..<items.count, using: &rng)
        if Bool.random(using: &rng) {
            items.insert(items[i], at: j)
        } else {
            let (a, b) = (items[i].split(separator: "=", maxSplits: 1), items[j].split(separator: "=", maxSplits: 1))
            if a.count == 2 && b.count == 2 { (items[i], items[j]) = ("\(a[0])=\(b[1])", "\(b[0])=\(a[1])") }
        }
        return items.joined(separator: "&")
    }

    @Test(arguments: SigV4VerifierFixtures.cases.indices)
    func mutatedRequestsAreNeverAcceptedByTheFastPathAlone(index: Int) {
        let c = Fixtures.cases[index]
        let presigned = c.headers["authorization"] == nil
        var rng = SigV4VerifierFuzzTests.SplitMix(state: UInt64(index) &* 104_729)
        let base = SigV4VerifierTests.request(c)
        var accepted = 0
        for round in 0..<400 {
            var r = base
            switch (round % 8, presigned) {
            case (0...2, true): r.rawQuery = Self.mutate(c.rawQuery, using: &rng)
            case (0...2, false): r.headers["authorization"] = Self.mutate(c.headers["authorization"]!, using: &rng)
            case (3, true): r.rawQuery = Self.swapOrDuplicate(c.rawQuery, using: &rng)
            case (3, false): r.headers["x-amz-date"] = Self.mutate(c.headers["x-amz-date"]!, using: &rng)
            case (4, _): r.headers["host"] = Self.mutate(c.headers["host"]!, using: &rng)
            case (5, _): r.rawPath = Self.mutate(c.rawPath, using: &rng)
            case (6, _): r.rawQuery = Self.mutate(c.rawQuery, using: &rng)
            default: r.headers["x-amz-content-sha256"] = round % 16 == 7 ? nil : Self.mutate(c.headers["x-amz-content-sha256"] ?? "", using: &rng)
            }
            if Self.agree(r, secret: c.secret, "\(c.name), round \(round)") { accepted += 1 }
        }
        // A change the canonical request does not see (e.g. a doubled space in a header
        // value) verifies, as S3 would; most changes must not.
        #expect(accepted < 100, "\(c.name): \(accepted) of 400 mutations accepted")
    }

    @Test func skewWrongKeyAndWrongSecretFallToTheFullVerifier() throws {
        let c = Fixtures.cases[0]
        let r = SigV4VerifierTests.request(c)
        #expect(Self.fast(r, secret: c.secret, now: Self.now + 901) == nil)
        #expect(Self.fast(r, secret: c.secret, now: Self.now - 16 * 60 - 60) == nil)
        #expect(Self.fast(r, secret: c.secret, accessKey: "AKOTHER") == nil)
        #expect(Self.fast(r, secret: c.secret + "x") == nil)
        #expect(Self.fast(r, secret: c.secret) == Fixtures.accessKey)
        let p = try #require(Fixtures.cases.first { $0.headers["authorization"] == nil })
        let pr = SigV4VerifierTests.request(p)
        #expect(Self.fast(pr, secret: p.secret, now: Self.now + 7 * 86_400) == nil)
        #expect(Self.fast(pr, secret: p.secret, now: Self.now - 1_000) == nil)
        #expect(Self.fast(pr, secret: p.secret + "x") == nil)
        #expect(Self.fast(pr, secret: p.secret) == Fixtures.accessKey)
    }

    @Test func ourOwnSignerWithHostileKeysAgrees() {
        var rng = SigV4VerifierFuzzTests.SplitMix(state: 7)
        var taken = 0
        for round in 0..<300 {
            let key = String((0..<Int.random(in: 1...30, using: &rng)).map { _ in SigV4VerifierFuzzTests.hostile.randomElement(using: &rng)! })
            let accessKey = round % 3 == 0 ? "AK\(round)" : "AK-\(round)"
            let path = "/lab/" + key
            let query: [(String, String)] = round % 2 == 0 ? [("prefix", key), ("list-type", "2")] : []
            var extra = [("Range", "bytes=0-\(round)")]
            if round % 4 == 1 { extra.append(("X-Lab-Note", "  a   b \(round)  ")) }
            let signed = SigV4(credentials: .init(accessKey: accessKey, secretKey: "s\(round)"), region: round % 5 == 0 ? "EU" : "eu-west-\(round % 3)")
                .sign(method: "GET", host: "127.0.0.1:8080", path: path, query: query, date: Self.now, extraHeaders: extra)
            var headers: [String: String] = [:]
            for (n, v) in signed.headers { headers[n.lowercased()] = v }
            let r = SigV4Verifier.Request(method: "GET", rawPath: SigV4.encodePath(path), rawQuery: SigV4.canonicalQuery(query), headers: headers)
            #expect(Self.full(r, secret: "s\(round)", accessKey: accessKey) == .success(accessKey), "\(key)")
            if Self.agree(r, secret: "s\(round)", accessKey: accessKey, "\(key)") { taken += 1 }
        }
        // Alphanumeric keys and lower-case regions: a third of the rounds minus the "EU" ones.
        #expect(taken >= 70)
    }
}

/// The canonical query as bytes (in order as it came, or sorted) against its String definition.
@Suite struct CanonicalQueryBytesTests {
    @Test func bytesMatchTheStringFormForSortedUnsortedRepeatedAndOddQueries() {
        var rng = SigV4VerifierFuzzTests.SplitMix(state: 99)
        let names = ["a", "b", "X-Amz-Date", "X-Amz-Signature", "prefix", "list-type", "p%2Fq", "c+d", "e%20f", "%7E", "Z"]
        let values = ["", "1", "2", "x%2Fy", "a b", "a+b", "%41", "~", "%e2%82%ac"]
        for round in 0..<4_000 {
            var items: [String] = []
            for _ in 0..<Int.random(in: 1...6, using: &rng) {
                let n = names.randomElement(using: &rng)!
                items.append(Bool.random(using: &rng) ? n : n + "=" + values.randomElement(using: &rng)!)
            }
            if round % 3 == 0 { items.sort() }
            // As presigned URLs have it: sorted, the signature last (the items are copied at once).
            if round % 5 == 0 {
                items.sort()
                items.append("X-Amz-Signature" + (Bool.random(using: &rng) ? "=abc" : ""))
            }
            // Empty items, leading and trailing `&`s: none of them is in the canonical query.
            if round % 7 == 0 { items.insert("", at: Int.random(in: 0...items.count, using: &rng)) }
            let raw = items.joined(separator: "&")
            for excluding in [false, true] {
                var bytes: [UInt8] = []
                SigV4Verifier.appendCanonicalQuery(Substring(raw), excludingSignature: excluding, to: &bytes)
                #expect(String(decoding: bytes, as: UTF8.self) == SigV4Verifier.canonicalQuery(raw, excludingSignature: excluding), "\(raw)")
            }
        }
    }
}
