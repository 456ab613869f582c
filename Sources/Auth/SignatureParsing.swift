import Escaping
import S3Protocol

/// The `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` form.
enum HeaderAuth {
    static let malformed = "The authorization header is malformed; "
    static let credentialShape = "the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\"."

    static func parse(_ header: String, headers: [String: String], now: Int64) throws(S3Error) -> SignatureParts {
        // Nearly every header starts `AWS4-HMAC-SHA256 ` then ASCII: found on bytes (generic
        // UTF8View prefix tests were a tenth of the check); anything else takes the path below.
        let start = header.utf8.withContiguousStorageIfAvailable { b -> Int? in
            var i = 0
            while i < b.count && b[i] == UInt8(ascii: " ") { i += 1 }
            let end = i + algorithmPrefix.utf8CodeUnitCount
            // SAFETY: end < b.count is checked first, so the rebased view is in bounds; it is only read here.
            guard end < b.count, b[end] < 0x80, Bytes.equal(UnsafeBufferPointer(rebasing: b[i..<end]), algorithmPrefix) else { return nil }
            return end
        } ?? nil
        if let start { return try parse(header, componentsStart: start, headers: headers, now: now) }
        return try parse(header, componentsStart: componentsStart(header), headers: headers, now: now)
    }

    static let algorithmPrefix: StaticString = "AWS4-HMAC-SHA256 "

    /// Where the components start, for a header the byte test above did not take: throws
    /// S3's error for another scheme.
    private static func componentsStart(_ header: String) throws(S3Error) -> Int {
        let trimmed = Substring(Substring(header).utf8.drop { $0 == UInt8(ascii: " ") })
        guard trimmed.utf8.starts(with: "AWS4-HMAC-SHA256 ".utf8) else {
            if trimmed.utf8.starts(with: "AWS ".utf8) {
                throw .invalidRequest("The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.")
            }
            throw .invalidArgument("Unsupported Authorization Type", argumentName: "Authorization", argumentValue: header)
        }
        let algorithmLength = SigV4Verifier.algorithm.utf8.count + 1
        let u = header.utf8
        var componentsStart = u.distance(from: u.startIndex, to: trimmed.startIndex) + algorithmLength
        if let next = trimmed.utf8.dropFirst(algorithmLength).first, next >= 0x80 {
            // A combining mark right after the space joins it in one Character: dropped with it.
            componentsStart = u.distance(from: u.startIndex, to: trimmed.dropFirst(algorithmLength).startIndex)
        }
        return componentsStart
    }

    private static func parse(_ header: String, componentsStart: Int, headers: [String: String], now: Int64) throws(S3Error) -> SignatureParts {
        let u = header.utf8
        // SAFETY: the buffer lives for the closure's call only and scanComponents returns offsets, no pointers.
        let found = u.withContiguousStorageIfAvailable { scanComponents($0, from: componentsStart) }
            ?? Array(u).withUnsafeBufferPointer { scanComponents($0, from: componentsStart) }
        func slice(_ r: Range<Int>) -> Substring {
            Substring(u[u.index(u.startIndex, offsetBy: r.lowerBound)..<u.index(u.startIndex, offsetBy: r.upperBound)])
        }
        if let bad = found.malformed {
            throw .authorizationHeaderMalformed(malformed + "the authorization component \"\(slice(bad))\" is malformed.")
        }
        let credential = found.credential.map(slice), signed = found.signed.map(slice), signature = found.signature.map(slice)
        guard let credential, let signed, let signature else {
            throw .authorizationHeaderMalformed(malformed + "the authorization header requires three components: Credential, SignedHeaders, and Signature.")
        }
        let (accessKey, scope) = try Credentials.parse(credential, prefix: malformed) { .authorizationHeaderMalformed($0) }

        let requestTime: String
        let time: Int64
        // A valid X-Amz-Date is already in the string-to-sign's form.
        let amzDate: String
        if let amz = headers["x-amz-date"], let t = AmzDate.parse(amz) {
            (requestTime, time, amzDate) = (amz, t, amz)
        } else if let date = headers["date"], let t = HTTPDate.parse(date) {
            (requestTime, time, amzDate) = (date, t, SigV4.amzDate(t))
        } else {
            throw .accessDeniedBecause("AWS authentication requires a valid Date or x-amz-date header")
        }
        guard amzDate.hasPrefix(scope.day) else {
            throw .authorizationHeaderMalformed(malformed + "Invalid credential date \"\(scope.day)\". This date is not the same as X-Amz-Date: \"\(amzDate.prefix(8))\".")
        }
        guard abs(time - now) <= SigV4Verifier.maxSkewSeconds else {
            throw .requestTimeTooSkewed(requestTime: requestTime, serverTime: now, maxSkewMilliseconds: SigV4Verifier.maxSkewSeconds * 1000)
        }
        // A client that does not send the payload hash (curl's --aws-sigv4 does not) signed
        // the empty body's: every request x2s3 answers is bodiless.
        let payload = headers["x-amz-content-sha256"] ?? SigV4.emptyPayloadHash
        return SignatureParts(accessKey: accessKey, scope: scope, amzDate: amzDate,
                              signedHeaders: try Credentials.signedHeaders(signed) { .authorizationHeaderMalformed(malformed + $0) },
                              signature: String(signature), payloadHash: payload, fromQuery: false)
    }
}

/// Where the `Credential`, `SignedHeaders` and `Signature` values of an Authorization header
/// are (byte offsets), or its first component without `=`.
private struct HeaderComponents {
    var credential: Range<Int>?, signed: Range<Int>?, signature: Range<Int>?
    var malformed: Range<Int>?
}

/// The `,`-separated components of `bytes` from `start`, each trimmed of spaces (empty ones
/// skipped), as `name=value`.
private func scanComponents(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> HeaderComponents {
    var found = HeaderComponents()
    var i = start
    while i < bytes.count {
        var end = i
        while end < bytes.count && bytes[end] != UInt8(ascii: ",") { end += 1 }
        defer { i = end + 1 }
        if end == i { continue }
        var lo = i, hi = end
        while lo < hi && bytes[lo] == UInt8(ascii: " ") { lo += 1 }
        while hi > lo && bytes[hi - 1] == UInt8(ascii: " ") { hi -= 1 }
        var eq = lo
        while eq < hi && bytes[eq] != UInt8(ascii: "=") { eq += 1 }
        guard eq < hi else {
            found.malformed = lo..<hi
            return found
        }
        // SAFETY: lo..<eq lies inside bytes (both bounds come from the scan above); the view is read here only.
        let name = UnsafeBufferPointer(rebasing: bytes[lo..<eq]), value = (eq + 1)..<hi
        if Bytes.equal(name, "Credential") {
            found.credential = value
        } else if Bytes.equal(name, "SignedHeaders") {
            found.signed = value
        } else if Bytes.equal(name, "Signature") {
            found.signature = value
        }
    }
    return found
}

/// The presigned form: `X-Amz-Algorithm`, `-Credential`, `-Date`, `-Expires`, `-SignedHeaders`
/// and `-Signature` in the query.
enum QueryAuth {
    /// Whether a decoded parameter name makes a query an attempt at a signature (S3 treats
    /// any of these as one), SigV2's `AWSAccessKeyId` included, so it is refused, not ignored.
    static func isSignatureName(_ name: String) -> Bool {
        switch name {
        case "X-Amz-Algorithm", "X-Amz-Signature", "X-Amz-Credential", "AWSAccessKeyId": return true
        default: return false
        }
    }

    /// `isSignatureName` of a raw name with nothing to decode (no `%`, `+` or non-ASCII byte,
    /// so its bytes are its decoded name and no other spelling is canonically equivalent).
    static func isSignatureName(bytes name: UnsafeBufferPointer<UInt8>) -> Bool {
        Bytes.equal(name, "X-Amz-Algorithm") || Bytes.equal(name, "X-Amz-Signature")
            || Bytes.equal(name, "X-Amz-Credential") || Bytes.equal(name, "AWSAccessKeyId")
    }

    /// Whether a decoded name starts `X-Amz-`, on its bytes (the generic `starts(with:)` over
    /// UTF-8 views was a tenth of a presigned check).
    static func isAmzName(_ name: String) -> Bool {
        var name = name
        // SAFETY: the bytes are lent for the comparison only.
        return name.withUTF8 { Bytes.startsWith($0, "X-Amz-") }
    }

    /// `items`: the query form-decoded; the last of a repeated name counts, as in S3.
    static func parse(_ items: [QueryItem], now: Int64) throws(S3Error) -> SignatureParts {
        // One pass over the handful of items into named slots: a dictionary of them, or a
        // search per name, cost more than the rest of the parse.
        var algorithm, credential, signature, amzDate, signedList, expiresText, payload: String?
        for item in items where isAmzName(item.name) {
            let value = item.value ?? ""
            switch item.name {
            case "X-Amz-Algorithm": algorithm = value
            case "X-Amz-Credential": credential = value
            case "X-Amz-Signature": signature = value
            case "X-Amz-Date": amzDate = value
            case "X-Amz-SignedHeaders": signedList = value
            case "X-Amz-Expires": expiresText = value
            case "X-Amz-Content-Sha256": payload = value
            default: continue
            }
        }
        guard let algorithm, let credential, let signature, let amzDate, let signedList, let expiresText else {
            if !items.contains(where: { isAmzName($0.name) }) && items.contains(where: { $0.name == "AWSAccessKeyId" }) {
                throw .invalidRequest("The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.")
            }
            throw .authorizationQueryParametersError("Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.")
        }
        guard algorithm == SigV4Verifier.algorithm else {
            throw .authorizationQueryParametersError("X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"")
        }
        let prefix = "Error parsing the X-Amz-Credential parameter; "
        let (accessKey, scope) = try Credentials.parse(Substring(credential), prefix: prefix) { .authorizationQueryParametersError($0) }
        guard let time = AmzDate.parse(amzDate) else {
            throw .authorizationQueryParametersError("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
        }
        guard !expiresText.isEmpty, expiresText.utf8.count <= 12, expiresText.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let expires = Int64(expiresText) else {
            throw .authorizationQueryParametersError("X-Amz-Expires should be a number")
        }
        guard expires <= SigV4Verifier.maxExpiresSeconds else {
            throw .authorizationQueryParametersError("X-Amz-Expires must be less than a week (in seconds) that is; the maximum expires is 604800 seconds")
        }
        guard amzDate.hasPrefix(scope.day) else {
            throw .authorizationQueryParametersError(prefix + "Invalid credential date \"\(scope.day)\". This date is not the same as X-Amz-Date: \"\(amzDate.prefix(8))\".")
        }
        guard time - now <= SigV4Verifier.maxSkewSeconds else { throw .accessDeniedBecause("Request is not valid yet") }
        guard now <= time + expires else { throw .requestExpired(expires: expiresText, expiredAt: time + expires, serverTime: now) }
        let signed = try Credentials.signedHeaders(Substring(signedList)) { .authorizationQueryParametersError($0) }
        return SignatureParts(accessKey: accessKey, scope: scope, amzDate: amzDate, signedHeaders: signed,
                              signature: signature, payloadHash: payload ?? SigV4Verifier.unsignedPayload,
                              fromQuery: true)
    }
}

/// The parts both forms share.
enum Credentials {
    /// `AKID/YYYYMMDD/region/s3/aws4_request` → access key and scope.
    static func parse(_ text: Substring, prefix: String, error: (String) -> S3Error) throws(S3Error) -> (String, Scope) {
        // Bytes and five slices, no arrays: this runs on every signed request.
        let checked = text.utf8.withContiguousStorageIfAvailable(checkCredential)
            // SAFETY: the fallback buffer lives for the call only; the parser reads it and returns values, no pointers.
            ?? Array(text.utf8).withUnsafeBufferPointer(checkCredential)
        switch checked {
        case .valid(let key, let day, let region):
            return (key, Scope(day: day, region: region, service: "s3", terminal: "aws4_request"))
        case .shape: throw error(prefix + HeaderAuth.credentialShape)
        case .emptyKey: throw error(prefix + "a non-empty Access Key (AKID) must be provided in the credential.")
        case .service(let service):
            throw error(prefix + "incorrect service \"\(service)\". This endpoint belongs to \"s3\".")
        case .terminal(let terminal):
            throw error(prefix + "incorrect terminal \"\(terminal)\". This endpoint uses \"aws4_request\".")
        }
    }

    /// `host;x-amz-date` → names; they must be lower case and sorted, as every signer writes them.
    static func signedHeaders(_ text: Substring, error: (String) -> S3Error) throws(S3Error) -> [String] {
        let names = text.utf8.withContiguousStorageIfAvailable(splitSignedHeaders)
            // SAFETY: the fallback buffer lives for the call only; the parser reads it and returns values, no pointers.
            ?? Array(text.utf8).withUnsafeBufferPointer(splitSignedHeaders)
        guard let names else { throw error("the SignedHeaders component is malformed: \"\(text)\".") }
        return names
    }
}

/// What `Credentials.parse` found.
private enum CheckedCredential {
    case valid(key: String, day: String, region: String)
    case shape, emptyKey
    case service(String), terminal(String)
}

/// `AKID/YYYYMMDD/region/s3/aws4_request`, checked in the order S3 reports problems.
private func checkCredential(_ b: UnsafeBufferPointer<UInt8>) -> CheckedCredential {
    var slashes = (0, 0, 0, 0), n = 0
    for i in 0..<b.count where b[i] == UInt8(ascii: "/") {
        switch n {
        case 0: slashes.0 = i
        case 1: slashes.1 = i
        case 2: slashes.2 = i
        case 3: slashes.3 = i
        default: return .shape
        }
        n += 1
    }
    guard n == 4 else { return .shape }
    // SAFETY: the range comes from scanning this same buffer, so it is in bounds; the view is only read here.
    func part(_ r: Range<Int>) -> UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(rebasing: b[r]) }
    let key = part(0..<slashes.0), day = part((slashes.0 + 1)..<slashes.1), region = part((slashes.1 + 1)..<slashes.2)
    let service = part((slashes.2 + 1)..<slashes.3), terminal = part((slashes.3 + 1)..<b.count)
    guard !key.isEmpty else { return .emptyKey }
    guard day.count == 8, day.allSatisfy({ $0 >= 48 && $0 <= 57 }), !region.isEmpty else { return .shape }
    guard Bytes.equal(service, "s3") else { return .service(String(decoding: service, as: UTF8.self)) }
    guard Bytes.equal(terminal, "aws4_request") else { return .terminal(String(decoding: terminal, as: UTF8.self)) }
    return .valid(key: String(decoding: key, as: UTF8.self), day: String(decoding: day, as: UTF8.self),
                  region: String(decoding: region, as: UTF8.self))
}

/// `;`-separated names, each non-empty and without upper case; nil otherwise.
private func splitSignedHeaders(_ b: UnsafeBufferPointer<UInt8>) -> [String]? {
    var names: [String] = []
    names.reserveCapacity(8)
    var start = 0
    for i in 0...b.count where i == b.count || b[i] == UInt8(ascii: ";") {
        // SAFETY: the range comes from scanning this same buffer, so it is in bounds; the view is only read here.
        let name = UnsafeBufferPointer(rebasing: b[start..<i])
        guard !name.isEmpty, !name.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) else { return nil }
        names.append(String(decoding: name, as: UTF8.self))
        start = i + 1
    }
    return names
}

/// `YYYYMMDDTHHMMSSZ` (X-Amz-Date) → seconds since the epoch, strictly.
enum AmzDate {
    static func parse(_ text: String) -> Int64? {
        if let t = text.utf8.withContiguousStorageIfAvailable({ parse($0) }) { return t }
        // SAFETY: the fallback buffer lives for the call only; the parser reads it and returns values, no pointers.
        return Array(text.utf8).withUnsafeBufferPointer { parse($0) }
    }

    static func parse(_ b: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard b.count == 16, b[8] == UInt8(ascii: "T"), b[15] == UInt8(ascii: "Z") else { return nil }
        func number(_ r: Range<Int>) -> Int? {
            var n = 0
            for i in r {
                guard b[i] >= 48 && b[i] <= 57 else { return nil }
                n = n * 10 + Int(b[i] - 48)
            }
            return n
        }
        guard let y = number(0..<4), let mo = number(4..<6), let d = number(6..<8), let h = number(9..<11),
              let mi = number(11..<13), let s = number(13..<15),
              (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, s < 61 else { return nil }
        return HTTPDate.epoch(year: y, month: mo, day: d, hour: h, minute: mi, second: s)
    }
}
