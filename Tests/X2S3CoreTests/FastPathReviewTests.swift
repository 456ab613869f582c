@testable import Auth
import Hashing
@testable import S3Protocol
import Testing

/// A review of the accept-only fast paths: hostile variants of a header-signed and a presigned
/// request, each signed as the fast path itself reads it (HeaderLayout / PresignedLayout and its
/// own canonical bytes) or, when the fast path refuses it, as the full verifier reads it. Whatever
/// the fast path accepts, the full verifier must accept with the same credential, at every clock
/// on either side of the skew and expiry limits; and nothing may trap.
@Suite struct FastPathReviewTests {
    typealias Request = SigV4Verifier.Request
    typealias Fast = SigV4FastPathTests
    static let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    static let amzDate = "20240517T093015Z"
    static let signedAt = HTTPDate.epoch(year: 2024, month: 5, day: 17, hour: 9, minute: 30, second: 15)
    /// Both sides of the header form's skew, the presigned form's "not yet valid" and its expiry (3600).
    static let nows: [Int64] = [-901, -900, 0, 60, 900, 901, 3600, 3601].map { signedAt + $0 }
    /// 64 lower-case hex digits: every layout takes it for a signature; replaced once signed.
    static let placeholder = String(repeating: "0", count: 64)

    // MARK: Signing as each verifier reads the request

    static func mac(_ canonical: [UInt8], amzDate: String, day: String, region: String) -> String {
        let scope = Scope(day: day, region: region, service: "s3", terminal: "aws4_request")
        let stringToSign = "AWS4-HMAC-SHA256\n\(amzDate)\n\(scope.text)\n\(SHA256.hex(SHA256.hash(canonical)))"
        return SHA256.hex(HMACSHA256.authenticate(key: SigV4Verifier.deriveKey(secret: secret, scope: scope),
                                                  message: Array(stringToSign.utf8)))
    }

    /// The signature `acceptSignedHeader` would compute, or nil when its layout refuses the header.
    static func fastHeaderSignature(_ r: Request) -> String? {
        guard var header = r.headers["authorization"], let amzDate = r.headers["x-amz-date"] else { return nil }
        let payload = r.headers["x-amz-content-sha256"] ?? SigV4.emptyPayloadHash
        return header.withUTF8 { a -> String? in
            guard let l = HeaderLayout(scanning: a) else { return nil }
            let text = { (x: Range<Int>) in String(decoding: UnsafeBufferPointer(rebasing: a[x]), as: UTF8.self) }
            var canonical: [UInt8] = []
            SigV4Verifier.appendCanonicalRequest(r, names: UnsafeBufferPointer(rebasing: a[l.signed]), separator: ";",
                                                 presigned: false, payload: payload, to: &canonical)
            return mac(canonical, amzDate: amzDate, day: text(l.day), region: text(l.region))
        }
    }

    /// The signature `acceptPresigned` would compute, or nil when its layout refuses the query.
    static func fastQuerySignature(_ r: Request) -> String? {
        var query = r.rawQuery
        return query.withUTF8 { q -> String? in
            guard let p = PresignedLayout(scanning: q) else { return nil }
            let text = { (x: Range<Int>) in String(decoding: UnsafeBufferPointer(rebasing: q[x]), as: UTF8.self) }
            var canonical: [UInt8] = []
            SigV4Verifier.appendCanonicalRequest(r, names: UnsafeBufferPointer(rebasing: q[p.signed]), separator: "%3B",
                                                 presigned: true, payload: SigV4Verifier.unsignedPayload, queryIsCanonical: true,
                                                 to: &canonical)
            return mac(canonical, amzDate: text(p.date), day: text(p.day), region: text(p.region))
        }
    }

    /// The signature the full verifier would check, when it parses the request at any of `nows`.
    static func fullSignature(_ r: Request) -> String? {
        for now in nows {
            let parts: SignatureParts?
            if let header = r.headers["authorization"] {
                parts = try? HeaderAuth.parse(header, headers: r.headers, now: now)
            } else {
                parts = try? QueryAuth.parse(r.decodedQuery, now: now)
            }
            if let parts {
                return mac(Array(SigV4Verifier.canonicalRequest(r, parts: parts).utf8), amzDate: parts.amzDate,
                           day: parts.scope.day, region: parts.scope.region)
            }
        }
        return nil
    }

    /// `r` with the placeholder replaced by the signature the fast path (else the full verifier)
    /// computes for it, passed through `post`.
    static func signed(_ r: Request, post: (String) -> String = { $0 }) -> Request {
        let fastOne = r.headers["authorization"] != nil ? fastHeaderSignature(r) : fastQuerySignature(r)
        guard let signature = fastOne ?? fullSignature(r) else { return r }
        var out = r
        out.headers["authorization"] = r.headers["authorization"]?.replacing(placeholder, with: post(signature))
        out.rawQuery = r.rawQuery.replacing(placeholder, with: post(signature))
        return out
    }

    /// At every clock: `verify` says what the full verifier says, and whatever the fast path
    /// accepts the full verifier accepts with the same key. Returns how many clocks the fast path took.
    @discardableResult
    static func check(_ r: Request, _ what: String, nows: [Int64] = nows) -> Int {
        var taken = 0
        for now in nows {
            let full = Fast.full(r, secret: secret, now: now)
            #expect(SigV4VerifierTests.verify(r, secret: secret, now: now) == full, "\(what) at \(now - signedAt)")
            if let accepted = Fast.fast(r, secret: secret, now: now) {
                taken += 1
                #expect(full == .success(accepted), "BYPASS? fast accepted \(what) at \(now - signedAt); full: \(full)")
            }
        }
        return taken
    }

    // MARK: The header form

    static let credential = "AKIDEXAMPLE/20240517/us-east-1/s3/aws4_request"
    static let signedNames = "host;x-amz-content-sha256;x-amz-date"

    static func authorization(credential: String = credential, signed: String = signedNames,
                              signature: String = placeholder) -> String {
        "AWS4-HMAC-SHA256 Credential=\(credential), SignedHeaders=\(signed), Signature=\(signature)"
    }

    static func headerRequest(_ auth: String = authorization(), query: String = "") -> Request {
        Request(method: "GET", rawPath: "/lab/data/file.txt", rawQuery: query,
                headers: ["authorization": auth, "host": "127.0.0.1:8080", "x-amz-date": amzDate,
                          "x-amz-content-sha256": "UNSIGNED-PAYLOAD"])
    }

    static let base = authorization()
    static let authorizations: [String] = [
        base, " " + base, base + " ", base + ",", base + ", ", base.replacing(", ", with: ","),
        base.replacing("SHA256 ", with: "SHA256  "), base.replacing("SHA256 ", with: "SHA256\t"),
        base + ", Signature=" + String(repeating: "1", count: 64),
        authorization(signature: String(repeating: "1", count: 64) + ", Signature=" + placeholder),
        base.replacing("Credential=", with: "Credential=OTHER/20240517/us-east-1/s3/aws4_request, Credential="),
        "AWS4-HMAC-SHA256 SignedHeaders=\(signedNames), Credential=\(credential), Signature=\(placeholder)",
        base.replacing("AWS4-HMAC-SHA256", with: "aws4-hmac-sha256"), base.replacing("Credential", with: "credential"),
        base + ", Foo=bar", base.replacing("Credential", with: "Credential "), base.replacing("=", with: " = "),
        authorization(signature: String(repeating: "0", count: 63)), authorization(signature: String(repeating: "0", count: 65)),
        "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA256 ", "AWS4-HMAC-SHA256 Credential=", "AWS4-HMAC-SHA256 \u{301}Credential=x", "", ",", "=",
    ] + [
        "AKID-EXAMPLE/20240517/us-east-1/s3/aws4_request", "AKIDEXAMPLE/20240517/US-EAST-1/s3/aws4_request",
        "AKIDEXAMPLE/20240517//s3/aws4_request", "AKIDEXAMPLE/2024051/us-east-1/s3/aws4_request",
        "AKIDEXAMPLE/202405170/us-east-1/s3/aws4_request", "AKIDEXAMPLE/20240518/us-east-1/s3/aws4_request",
        "AKIDEXAMPLE/20240517/us-east-1/S3/aws4_request", "AKIDEXAMPLE/20240517/us-east-1/s3/aws4_request/",
        "/20240517/us-east-1/s3/aws4_request", "AKIDEXAMPLE/20240517/eu-\u{212A}/s3/aws4_request",
        "AKIDEXAMPLE/20240517/us-east-1/s3/aws4_requesté", "AKIDEXAMPLE/2024O517/us-east-1/s3/aws4_request",
        "AKIDEXAMPL\u{212A}/20240517/us-east-1/s3/aws4_request", "AKIDEXAMPLE/20240517/us east 1/s3/aws4_request",
    ].map { authorization(credential: $0) } + [
        "host", "host;", ";host", "host;;x-amz-date", "Host;x-amz-date", "host;x-absent", "host;host", "x-amz-date", "",
        "host;authorization", "host;date", "host;x-amz-date;x-amz-content-sha256", "host;range", "host;x_y", "hosté",
        "host\u{37E}x-amz-date",
    ].map { authorization(signed: $0) }

    /// A change to the header form's request: headers set (nil: removed), the Host header moved to
    /// `host` or `host` set beside it, a query.
    struct Change: Sendable {
        var label: String
        var headers: [String: String?] = [:]
        var hostField: String?
        var moveHost = false
        var query: String?

        func apply(_ r: inout Request) {
            for (name, value) in headers { r.headers[name] = value }
            if moveHost { r.host = r.headers.removeValue(forKey: "host") }
            if let hostField { r.host = hostField }
            if let query { r.rawQuery = query }
        }
    }

    /// Header sets around the date, payload and host headers, and queries beside the header.
    static let headerChanges: [Change] = {
        let date = "Fri, 17 May 2024 09:30:15 GMT"
        var list = [
            Change(label: "as signed"),
            Change(label: "Date, no x-amz-date", headers: ["x-amz-date": nil, "date": date]),
            Change(label: "Date and x-amz-date", headers: ["date": "Fri, 17 May 2024 09:59:59 GMT"]),
            Change(label: "bad x-amz-date, good Date", headers: ["x-amz-date": "20240517T093015", "date": date]),
            Change(label: "no payload header", headers: ["x-amz-content-sha256": nil]),
            Change(label: "host field only", moveHost: true),
            Change(label: "host field and header", hostField: "evil.example"),
            Change(label: "spaced host", headers: ["host": "  127.0.0.1:8080 \t"]),
            Change(label: "presigned query too", query: presignedQuery()),
            Change(label: "a signature name in the query", query: "X-Amz-Signature"),
            Change(label: "AWSAccessKeyId in the query", query: "AWSAccessKeyId=AKIDEXAMPLE"),
            Change(label: "Kelvin AWSAccessKeyId in the query", query: "AWSAccess\u{212A}eyId=AKIDEXAMPLE"),
            Change(label: "odd query", query: "=&&=x&a&b=c+d&%7e=%7E&é=ü&X-Amz-Signature=" + placeholder),
            Change(label: "bad escape in query", query: "a=%zz"),
        ]
        var dates = (0...20).map { String((amzDate + "0000").prefix($0)) }
        dates += ["20240517T093015z", "20240517t093015Z", "20240517T246015Z", "20240517T093015Z ", " 20240517T093015Z", "2024-05-17T09:30Z"]
        for d in dates { list.append(Change(label: "x-amz-date \(d)", headers: ["x-amz-date": d])) }
        return list
    }()

    @Test func headerVariantsSignedAsEitherVerifierReadsThemAgree() {
        var taken = 0
        for auth in Self.authorizations {
            for change in Self.headerChanges {
                let what = change.label
                var r = Self.headerRequest(auth)
                change.apply(&r)
                taken += Self.check(Self.signed(r), "\(what): \(auth)")
                taken += Self.check(Self.signed(r) { $0.uppercased() }, "\(what), upper-case signature: \(auth)")
            }
        }
        // The base header with most header sets, at the 5 clocks within the skew: not vacuous.
        #expect(taken >= 100)
    }

    // MARK: The presigned form

    static let presignedItems: [(String, String)] = [
        ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"), ("X-Amz-Credential", "AKIDEXAMPLE%2F20240517%2Fus-east-1%2Fs3%2Faws4_request"),
        ("X-Amz-Date", amzDate), ("X-Amz-Expires", "3600"), ("X-Amz-SignedHeaders", "host"), ("X-Amz-Signature", placeholder),
    ]

    static func presignedQuery(_ name: String? = nil, _ value: String? = nil, front: [String] = [], back: [String] = []) -> String {
        let items = presignedItems.map { n, v in n == name ? (value.map { "\(n)=\($0)" } ?? n) : "\(n)=\(v)" }
        return (front + items + back).joined(separator: "&")
    }

    static let queryValues: [(String, [String])] = [
        ("X-Amz-Expires", ["0", "1", "604800", "604801", "0604800", "000000000060", "99999999999999999999", "", "-1", "+60", "6e2",
                           "%36%30", "60 ", "３６００"]),
        ("X-Amz-Date", ["20240517T093015z", "20240517t093015Z", "2024-05-17T09:30:15Z", "", "2", "20240517T09301", "20240517T0930155",
                        "20240517T093015Z0", "%32%30240517T093015Z", "20240517T093015Z\u{301}", "20240518T093015Z", "20240517T240000Z"]),
        ("X-Amz-Credential", ["AKIDEXAMPLE%2f20240517%2Fus-east-1%2Fs3%2Faws4_request", "AKIDEXAMPLE/20240517/us-east-1/s3/aws4_request",
                              "AKID-EXAMPLE%2F20240517%2Fus-east-1%2Fs3%2Faws4_request", "AKIDEXAMPLE%2F20240517%2FUS-EAST-1%2Fs3%2Faws4_request",
                              "%2F20240517%2Fus-east-1%2Fs3%2Faws4_request", "AKIDEXAMPLE%2F20240518%2Fus-east-1%2Fs3%2Faws4_request",
                              "AKIDEXAMPLE%2F20240517%2F%2Fs3%2Faws4_request", "AKIDEXAMPLE%2F20240517%2Fus%2Feast%2Fs3%2Faws4_request",
                              "AKIDEXAMPLE%2F20240517%2Fus-east-1%2Fs3%2Faws4_request%2F", "AKIDEXAMPLE%2F20240517%2Fus-east-1%2FS3%2Faws4_request",
                              "AKIDEXAMPLE%2F20240517%2Fus-east-1%2Fs3%2Faws4_request%00", "AKIDEXAMPLE%2F20240517%2Fus+east%2Fs3%2Faws4_request",
                              "AKID%45XAMPLE%2F20240517%2Fus-east-1%2Fs3%2Faws4_request", "AKIDEXAMPLE%2F20240517%2Feu-%E2%84%AA%2Fs3%2Faws4_request"]),
        ("X-Amz-SignedHeaders", ["host%3Bx-absent", "host%3b", "HOST", "host;x-absent", "host%3B", "%3Bhost", "host%3B%3Bx", "", "x-amz-date",
                                 "host%3Bhost", "host%3Brange", "ho%73t", "host%3", "host%3B%3"]),
        ("X-Amz-Algorithm", ["aws4-hmac-sha256", "AWS4-HMAC-SHA256%20", "AWS4%2DHMAC-SHA256", "AWS4-HMAC-SHA256+", ""]),
        ("X-Amz-Signature", [placeholder + "0", String(placeholder.dropLast()), placeholder.uppercased()]),
    ]

    static let extraItems: [String] = [
        "=", "=x", "&", "a", "a=", "+=+", "%20=%20", "X-Amz-Date", "x-amz-date=1", "X-Amz-Dat%65=20240517T093016Z",
        "X-Amz-Date=20240517T093016Z", "X-Amz-Credential=OTHER%2F20240517%2Fus-east-1%2Fs3%2Faws4_request", "AWSAccessKeyId=AKIDEXAMPLE",
        "AWSAccess\u{212A}eyId=x", "X-Amz-Content-Sha256=UNSIGNED-PAYLOAD", "X-Amz-Content-Sha256=abc", "X-Amz-Content-Sha25%36=abc",
        "X-Amz-Signature=" + placeholder, "X-Amz-Signature", "X-Amz-Security-Token=t", "é=ü", "%zz=1", "X-Amz-Algorithm=AWS4-HMAC-SHA256",
        "X+Amz-Date=x", "X-Amz-Expires=1", "X-Amz-Expires=604801", "X-Amz-SignedHeaders=host%3Bx-absent", "list-type=2", "prefix=a%2Fb",
        "X-Amz-Signatur%65=" + placeholder, "X-Amz-Date\u{301}=20240517T093016Z", "response-content-type=text%2Fplain",
        // Canonical escapes that decode to no text: the full verifier then has no query to read.
        "a=%FF", "%FF=1", "X-Amz-Security-Token=%C3", "a=%C3%A9",
    ]

    static func queryRequest(_ query: String) -> Request {
        Request(method: "GET", rawPath: "/lab/data/file.txt", rawQuery: query, headers: ["host": "127.0.0.1:8080"])
    }

    @Test func presignedVariantsSignedAsEitherVerifierReadsThemAgree() {
        var taken = Self.check(Self.signed(Self.queryRequest(Self.presignedQuery())), "the base presigned URL")
        #expect(taken == 6, "the base presigned URL is taken from T-900 to T+3600")
        for (name, values) in Self.queryValues {
            for value in values {
                taken += Self.check(Self.signed(Self.queryRequest(Self.presignedQuery(name, value))), "\(name)=\(value)")
            }
            taken += Self.check(Self.signed(Self.queryRequest(Self.presignedQuery(name, nil))), "\(name) without =")
        }
        for extra in Self.extraItems {
            for query in [Self.presignedQuery(front: [extra]), Self.presignedQuery(back: [extra]), Self.presignedQuery(front: [extra], back: [extra])] {
                taken += Self.check(Self.signed(Self.queryRequest(query)), query)
                var withHost = Self.queryRequest(query)
                withHost.host = withHost.headers.removeValue(forKey: "host")
                taken += Self.check(Self.signed(withHost), "host field: \(query)")
            }
        }
        let reversed = Self.presignedItems.reversed().map { "\($0)=\($1)" }.joined(separator: "&")
        taken += Self.check(Self.signed(Self.queryRequest(reversed)), reversed)
        #expect(taken >= 100)
    }

    // MARK: Truncated and damaged requests (a trap is a worker killed)

    static let damage: [UInt8] = Array(" ,=/;%&+A0a\t".utf8) + [0x00, 0x7F, 0xC3, 0xFF]

    /// Every prefix, every byte removed and every byte replaced by each of `damage`.
    static func damaged(_ text: String) -> [String] {
        let b = Array(text.utf8)
        var out: [String] = []
        for i in 0..<b.count {
            out.append(String(decoding: b[..<i], as: UTF8.self))
            var removed = b
            removed.remove(at: i)
            out.append(String(decoding: removed, as: UTF8.self))
            for d in damage where d != b[i] {
                var replaced = b
                replaced[i] = d
                out.append(String(decoding: replaced, as: UTF8.self))
            }
        }
        return out
    }

    @Test func damagedHeadersNeverTrapAndNeverSplitTheVerifiers() {
        let good = Self.signed(Self.headerRequest())
        #expect(Self.check(good, "the base header", nows: [Self.signedAt]) == 1)
        for auth in Self.damaged(good.headers["authorization"]!) {
            var r = good
            r.headers["authorization"] = auth
            Self.check(r, auth, nows: [Self.signedAt])
        }
    }

    @Test func damagedPresignedQueriesNeverTrapAndNeverSplitTheVerifiers() {
        let good = Self.signed(Self.queryRequest(Self.presignedQuery()))
        #expect(Self.check(good, "the base query", nows: [Self.signedAt]) == 1)
        for query in Self.damaged(good.rawQuery) {
            var r = good
            r.rawQuery = query
            Self.check(r, query, nows: [Self.signedAt])
        }
    }

    /// One verifier for every request (its key cache filled by both paths in turn) answers as a
    /// fresh verifier does.
    @Test func aLongLivedVerifierAnswersAsFreshOnes() {
        var requests = Self.authorizations.map { Self.signed(Self.headerRequest($0)) }
        requests += Self.extraItems.map { Self.signed(Self.queryRequest(Self.presignedQuery(back: [$0]))) }
        var shared = SigV4Verifier()
        let credential = Credential(accessKey: SigV4VerifierFixtures.accessKey, secretKey: Self.secret, buckets: nil)
        for _ in 0..<2 {
            for r in requests {
                let fresh = SigV4VerifierTests.verify(r, secret: Self.secret, now: Self.signedAt)
                let result: Result<String?, S3Error>
                do {
                    result = .success(try shared.verify(r, now: Self.signedAt) { $0 == credential.accessKey ? credential : nil }?.accessKey)
                } catch {
                    result = .failure(error)
                }
                #expect(result == fresh, "\(r.headers["authorization"] ?? r.rawQuery)")
            }
        }
    }

    // MARK: KeyedHMAC

    /// HMAC-SHA256 by its definition over the EVP digest alone (RFC 2104).
    static func hmacByDefinition(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var k = key.count > 64 ? SHA256.hash(key) : key
        k += [UInt8](repeating: 0, count: 64 - k.count)
        return SHA256.hash(k.map { $0 ^ 0x5C } + SHA256.hash(k.map { $0 ^ 0x36 } + message))
    }

    @Test(arguments: [0, 1, 31, 32, 33, 55, 63, 64, 65, 128, 200])
    func keyedHMACIsHMACForEveryKeyLength(keyLength: Int) {
        let key = (0..<keyLength).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        let keyed = KeyedHMAC(key: key)
        for n in [0, 1, 55, 56, 63, 64, 65, 119, 120, 200, 1000] {
            let message = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ keyLength) }
            let expected = Self.hmacByDefinition(key: key, message: message)
            #expect(HMACSHA256.authenticate(key: key, message: message) == expected, "EVP, key \(keyLength), message \(n)")
            for _ in 0..<2 {
                var out = [UInt8](repeating: 0xEE, count: 32)
                message.withUnsafeBytes { keyed.authenticate($0, into: &out) }
                #expect(out == expected, "KeyedHMAC, key \(keyLength), message \(n)")
            }
        }
    }
}
