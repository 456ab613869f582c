import S3Protocol

/// The `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` form.
enum HeaderAuth {
    static let malformed = "The authorization header is malformed; "
    static let credentialShape = "the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\"."

    static func parse(_ header: String, headers: [String: String], now: Int64) throws(S3Error) -> SignatureParts {
        let trimmed = Substring(Substring(header).utf8.drop { $0 == UInt8(ascii: " ") })
        guard trimmed.utf8.starts(with: "AWS4-HMAC-SHA256 ".utf8) else {
            if trimmed.utf8.starts(with: "AWS ".utf8) {
                throw .invalidRequest("The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.")
            }
            throw .invalidArgument("Unsupported Authorization Type", argumentName: "Authorization", argumentValue: header)
        }
        // Bytes, not Characters: this runs on every signed request.
        var credential: Substring?, signed: Substring?, signature: Substring?
        for component in trimmed.dropFirst(SigV4Verifier.algorithm.count + 1).utf8.split(separator: UInt8(ascii: ",")) {
            let c = trimSpaces(component)
            guard let eq = c.firstIndex(of: UInt8(ascii: "=")) else {
                throw .authorizationHeaderMalformed(malformed + "the authorization component \"\(Substring(c))\" is malformed.")
            }
            let value = Substring(c[c.index(after: eq)...])
            switch Substring(c[..<eq]) {
            case "Credential": credential = value
            case "SignedHeaders": signed = value
            case "Signature": signature = value
            default: break
            }
        }
        guard let credential, let signed, let signature else {
            throw .authorizationHeaderMalformed(malformed + "the authorization header requires three components: Credential, SignedHeaders, and Signature.")
        }
        let (accessKey, scope) = try Credentials.parse(credential, prefix: malformed) { .authorizationHeaderMalformed($0) }

        let requestTime: String
        let time: Int64
        if let amz = headers["x-amz-date"], let t = AmzDate.parse(amz) {
            (requestTime, time) = (amz, t)
        } else if let date = headers["date"], let t = HTTPDate.parse(date) {
            (requestTime, time) = (date, t)
        } else {
            throw .accessDeniedBecause("AWS authentication requires a valid Date or x-amz-date header")
        }
        // A valid X-Amz-Date is already in the string-to-sign's form.
        let amzDate = requestTime.utf8.count == 16 && headers["x-amz-date"] == requestTime ? requestTime : SigV4.amzDate(time)
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

/// The `&`-separated items of a raw query, as bytes (Character splitting is far slower).
func queryItems(_ rawQuery: String) -> [Substring.UTF8View.SubSequence] {
    Substring(rawQuery).utf8.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true)
}

/// `bytes` without leading and trailing spaces.
func trimSpaces(_ bytes: Substring.UTF8View.SubSequence) -> Substring.UTF8View.SubSequence {
    var b = bytes
    while b.first == UInt8(ascii: " ") { b = b.dropFirst() }
    while b.last == UInt8(ascii: " ") { b = b.dropLast() }
    return b
}

/// The presigned form: `X-Amz-Algorithm`, `-Credential`, `-Date`, `-Expires`, `-SignedHeaders`
/// and `-Signature` in the query.
enum QueryAuth {
    static let required = ["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Expires"]

    /// Whether the query carries presigned parameters (S3 treats any of these as an attempt),
    /// SigV2's (`AWSAccessKeyId` with `Signature`) included, so they are refused, not ignored.
    static func hasSignatureParameters(_ rawQuery: String) -> Bool {
        guard rawQuery.utf8.count >= 10 else { return false }
        return queryItems(rawQuery).contains { item in
            let name = item.prefix { $0 != UInt8(ascii: "=") }
            return name.elementsEqual("X-Amz-Algorithm".utf8) || name.elementsEqual("X-Amz-Signature".utf8)
                || name.elementsEqual("X-Amz-Credential".utf8) || name.elementsEqual("AWSAccessKeyId".utf8)
        }
    }

    static func parse(_ rawQuery: String, now: Int64) throws(S3Error) -> SignatureParts {
        var values: [String: String] = [:]
        for item in queryItems(rawQuery) {
            let eq = item.firstIndex(of: UInt8(ascii: "="))
            let name = percentDecode(Substring(eq.map { item[..<$0] } ?? item), plusIsSpace: true) ?? ""
            guard name.hasPrefix("X-Amz-") else { continue }
            values[name] = eq.flatMap { percentDecode(Substring(item[item.index(after: $0)...]), plusIsSpace: true) } ?? ""
        }
        if values.isEmpty && queryItems(rawQuery).contains(where: { $0.starts(with: "AWSAccessKeyId=".utf8) }) {
            throw .invalidRequest("The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.")
        }
        guard required.allSatisfy({ values[$0] != nil }) else {
            throw .authorizationQueryParametersError("Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.")
        }
        guard values["X-Amz-Algorithm"] == SigV4Verifier.algorithm else {
            throw .authorizationQueryParametersError("X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"")
        }
        let prefix = "Error parsing the X-Amz-Credential parameter; "
        let (accessKey, scope) = try Credentials.parse(Substring(values["X-Amz-Credential"]!), prefix: prefix) { .authorizationQueryParametersError($0) }
        let amzDate = values["X-Amz-Date"]!
        guard let time = AmzDate.parse(amzDate) else {
            throw .authorizationQueryParametersError("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
        }
        let expiresText = values["X-Amz-Expires"]!
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
        let signed = try Credentials.signedHeaders(Substring(values["X-Amz-SignedHeaders"]!)) { .authorizationQueryParametersError($0) }
        return SignatureParts(accessKey: accessKey, scope: scope, amzDate: amzDate, signedHeaders: signed,
                              signature: values["X-Amz-Signature"]!, payloadHash: values["X-Amz-Content-Sha256"] ?? SigV4Verifier.unsignedPayload,
                              fromQuery: true)
    }
}

/// The parts both forms share.
enum Credentials {
    /// `AKID/YYYYMMDD/region/s3/aws4_request` → access key and scope.
    static func parse(_ text: Substring, prefix: String, error: (String) -> S3Error) throws(S3Error) -> (String, Scope) {
        let parts = text.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).map { Substring($0) }
        guard parts.count == 5 else { throw error(prefix + HeaderAuth.credentialShape) }
        guard !parts[0].isEmpty else { throw error(prefix + "a non-empty Access Key (AKID) must be provided in the credential.") }
        guard parts[1].utf8.count == 8, parts[1].utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), !parts[2].isEmpty else {
            throw error(prefix + HeaderAuth.credentialShape)
        }
        guard parts[3] == "s3" else { throw error(prefix + "incorrect service \"\(parts[3])\". This endpoint belongs to \"s3\".") }
        guard parts[4] == "aws4_request" else { throw error(prefix + "incorrect terminal \"\(parts[4])\". This endpoint uses \"aws4_request\".") }
        return (String(parts[0]), Scope(day: String(parts[1]), region: String(parts[2]), service: "s3", terminal: "aws4_request"))
    }

    /// `host;x-amz-date` → names; they must be lower case and sorted, as every signer writes them.
    static func signedHeaders(_ text: Substring, error: (String) -> S3Error) throws(S3Error) -> [String] {
        let names = text.utf8.split(separator: UInt8(ascii: ";"), omittingEmptySubsequences: false).map { String(Substring($0)) }
        let upper = UInt8(ascii: "A")...UInt8(ascii: "Z")
        guard !names.isEmpty, names.allSatisfy({ !$0.isEmpty && !$0.utf8.contains(where: upper.contains) }) else {
            throw error("the SignedHeaders component is malformed: \"\(text)\".")
        }
        return names
    }
}

/// `YYYYMMDDTHHMMSSZ` (X-Amz-Date) → seconds since the epoch, strictly.
enum AmzDate {
    static func parse(_ text: String) -> Int64? {
        let b = Array(text.utf8)
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
