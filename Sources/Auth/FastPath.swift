import Escaping
import Hashing
import S3Protocol

/// What the accept-only paths (`acceptSignedHeader`, `acceptPresigned`) share.
///
/// In the running server a signed GET of a private bucket cost several times what the full
/// verifier costs in a hot loop (docs/bench.md): the check walked through many small String
/// functions and the generic runtime, and every request met them with cold caches. These
/// paths read the signature's parameters in one pass over their bytes, make three short
/// Strings and write the canonical request into the verifier's reused buffer. They accept a
/// signature only when every check the full verifier makes passes; for anything else, a
/// refusal above all, they return nil and the full verifier decides and explains (S3's error
/// details live there only). The unit tests compare both with the full verifier on AWS's
/// vectors, botocore's signatures and mutations of them.
extension SigV4Verifier {
    /// Where a signature's parts are in the bytes a fast path scanned (the Authorization header,
    /// or the raw query).
    struct FastParts {
        var accessKey: Range<Int>, day: Range<Int>, region: Range<Int>, signed: Range<Int>, signature: Range<Int>
        /// Between the signed names: `;` in a header, `%3B` in a query.
        var separator: StaticString
        var presigned: Bool
        /// The `x-amz-date` and `x-amz-content-sha256` headers, when already looked up.
        var dateHeader: String? = nil
        var payloadHeader: String? = nil
    }

    /// Both fast paths' common end: the credential, the canonical request in the reused
    /// buffer, the key, the signature's check. `b` holds the bytes `parts` points into;
    /// `amzDate` is the request's 16-byte time. No Scope is made unless a key must be found
    /// anew: the one used last is compared as bytes.
    mutating func accept(_ request: Request, parts: FastParts, in b: UnsafeBufferPointer<UInt8>, amzDate: UnsafeBufferPointer<UInt8>,
                         payload: String, lookup: (String) -> Credential?) -> Credential? {
        // SAFETY: every range in parts was found by scanning b, so it lies inside it; the views are read here only.
        let bytes = { (r: Range<Int>) in UnsafeBufferPointer(rebasing: b[r]) }
        // The key used last, when these are its bytes: no String made (an AWS key's 20 bytes are a heap one).
        let keyBytes = bytes(parts.accessKey)
        var recentKey = recent?.accessKey ?? ""
        // SAFETY: the String's bytes are lent for the comparison only.
        let accessKey = recentKey.withUTF8({ Bytes.equal($0, keyBytes) }) ? recentKey : String(decoding: keyBytes, as: UTF8.self)
        guard let credential = lookup(accessKey) else { return nil }
        var buffer = scratch
        scratch = []
        defer { scratch = buffer }
        buffer.removeAll(keepingCapacity: true)
        buffer.reserveCapacity(1024)
        Self.appendCanonicalRequest(request, names: bytes(parts.signed), separator: parts.separator, presigned: parts.presigned,
                                    payload: payload, dateHeader: parts.dateHeader, payloadHeader: parts.payloadHeader,
                                    queryIsCanonical: parts.presigned, to: &buffer)
        let day = bytes(parts.day), region = bytes(parts.region)
        let mac = recentMAC(credential, day: day, region: region)
            ?? cachedKey(credential, scope: Scope(day: String(decoding: day, as: UTF8.self), region: String(decoding: region, as: UTF8.self),
                                                  service: "s3", terminal: "aws4_request")).mac
        // SAFETY: the 32-byte digest buffer lives for the closure; the hash and the MAC write 32 bytes into it,
        //  and the buffer's bytes are read during the calls only.
        let valid = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { digest in
            let canonicalEnd = buffer.count
            buffer.withUnsafeBytes { KeyedHMAC.digest(UnsafeRawBufferPointer(rebasing: $0[..<canonicalEnd]), into: digest.baseAddress!) }
            Self.appendStringToSign(amzDate: amzDate, day: day, region: region, digest: UnsafeBufferPointer(digest), to: &buffer)
            buffer.withUnsafeBytes { mac.authenticate(UnsafeRawBufferPointer(rebasing: $0[canonicalEnd...]), into: digest.baseAddress!) }
            return Self.hexEqual(UnsafeBufferPointer(digest), bytes(parts.signature))
        }
        return valid ? credential : nil
    }

    /// The MAC of the key used last, when it is `credential`'s (same secret) for this day and
    /// region in s3; nil otherwise (`cachedKey` then finds or derives one).
    func recentMAC(_ credential: Credential, day: UnsafeBufferPointer<UInt8>, region: UnsafeBufferPointer<UInt8>) -> KeyedHMAC? {
        guard let recent, recent.accessKey == credential.accessKey, recent.cached.secret == credential.secretKey,
              recent.scope.service == "s3", recent.scope.terminal == "aws4_request" else { return nil }
        var d = recent.scope.day, r = recent.scope.region
        // SAFETY: the two Strings' bytes are lent for the comparisons only.
        guard d.withUTF8({ Bytes.equal($0, day) }), r.withUTF8({ Bytes.equal($0, region) }) else { return nil }
        return recent.cached.mac
    }

    /// Non-empty names of lower-case letters, digits and `-`, separated by `separator`:
    /// stricter than the full verifier, which takes any name without upper case.
    static func isSignedNameList(_ list: UnsafeBufferPointer<UInt8>, separator: StaticString) -> Bool {
        var ok = !list.isEmpty
        forEachName(list, separator: separator) { name in
            ok = ok && !name.isEmpty && name.allSatisfy { isLowerAlphanumeric($0) || $0 == UInt8(ascii: "-") }
        }
        return ok
    }
}

/// A cursor over scanned bytes, up to `end`, for the layouts' scanners.
struct ByteCursor {
    // SAFETY: lent by the scanner that makes the cursor, for that scan only; the cursor never escapes it.
    let bytes: UnsafeBufferPointer<UInt8>
    var position: Int
    let end: Int

    /// Steps over `literal` if it comes next.
    mutating func expect(_ literal: StaticString) -> Bool {
        let stop = position + literal.utf8CodeUnitCount
        // SAFETY: stop <= end <= bytes.count is checked first, so the rebased view is in bounds.
        guard stop <= end, Bytes.equal(UnsafeBufferPointer(rebasing: bytes[position..<stop]), literal) else { return false }
        position = stop
        return true
    }

    /// Steps over the bytes `allowed` holds for; returns where they were.
    mutating func run(_ allowed: (UInt8) -> Bool) -> Range<Int> {
        let start = position
        while position < end && allowed(bytes[position]) { position += 1 }
        return start..<position
    }

    /// `KEY/DAY/REGION/s3/aws4_request` with `separator` for `/`: an alphanumeric key, eight
    /// digits, a lower-case region. The access key's, day's and region's ranges, or nil.
    mutating func credential(separator: StaticString) -> (key: Range<Int>, day: Range<Int>, region: Range<Int>)? {
        let key = run(isAlphanumeric)
        guard !key.isEmpty, expect(separator) else { return nil }
        let day = run { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        guard day.count == 8, expect(separator) else { return nil }
        let region = run { isLowerAlphanumeric($0) || $0 == UInt8(ascii: "-") }
        guard !region.isEmpty, expect(separator), expect("s3"), expect(separator), expect("aws4_request") else { return nil }
        return (key, day, region)
    }
}

func isLowerAlphanumeric(_ b: UInt8) -> Bool {
    (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9"))
}

func isAlphanumeric(_ b: UInt8) -> Bool {
    isLowerAlphanumeric(b) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
}
