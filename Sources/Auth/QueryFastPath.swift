import Escaping
import S3Protocol

/// A presigned URL as the SDKs write it, verified on the raw query's bytes: accept only (see
/// FastPath.swift for why, and what the full verifier keeps).
extension SigV4Verifier {
    /// The credential that presigned `request`, when its query carries each `X-Amz-*`
    /// parameter once in the SDKs' encoding and the signature is valid; nil when it is not,
    /// or when the query is anything unusual (an unsigned one included). Call it only for a
    /// request without an Authorization header.
    mutating func acceptPresigned(_ request: Request, now: Int64, lookup: (String) -> Credential?) -> Credential? {
        var query = request.query
        // SAFETY: the query's bytes are lent for the closure only; every range below comes from scanning them
        //  (PresignedLayout) and stays inside their count; nothing keeps a pointer.
        return query.withUTF8 { q -> Credential? in
            guard let p = PresignedLayout(scanning: q) else { return nil }
            let bytes = { (r: Range<Int>) in UnsafeBufferPointer(rebasing: q[r]) }
            guard let time = AmzDate.parse(bytes(p.date)), Bytes.equal(bytes(p.date.lowerBound..<(p.date.lowerBound + 8)), bytes(p.day)),
                  time - now <= Self.maxSkewSeconds, now <= time + p.expires else { return nil }
            let parts = FastParts(accessKey: p.accessKey, day: p.day, region: p.region, signed: p.signed, signature: p.signature,
                                  separator: "%3B", presigned: true)
            return accept(request, parts: parts, in: q, amzDate: bytes(p.date), payload: Self.unsignedPayload, lookup: lookup)
        }
    }
}

/// Where the presigned parameters of a raw query are (byte offsets), after checks stricter
/// than the full verifier's: no name with `%` or `+` (so raw names are the decoded ones), each
/// signature parameter once, `X-Amz-Content-Sha256` and SigV2's `AWSAccessKeyId` absent, the
/// Credential as `KEY%2FDAY%2FREGION%2Fs3%2Faws4_request` with an alphanumeric key and a
/// lower-case region, SignedHeaders as lower-case names joined by `%3B`, Expires as at most
/// six digits within a week, every other item canonically encoded and decoding to text (so the
/// whole query is canonical: `queryIsCanonical`), a 64-byte signature (its digits are checked
/// by the comparison with the MAC's lower-case hex, which only 64 lower-case hex digits pass).
struct PresignedLayout {
    var accessKey: Range<Int>, day: Range<Int>, region: Range<Int>
    var date: Range<Int>, signed: Range<Int>, signature: Range<Int>
    var expires: Int64

    init?(scanning q: UnsafeBufferPointer<UInt8>) {
        var algorithm, credential, date, expires, signed, signature: Range<Int>?
        var usual = true
        // SAFETY: every range rebased here was found by scanning q, so it lies inside it.
        let bytes = { (r: Range<Int>) in UnsafeBufferPointer(rebasing: q[r]) }
        RawQuery.forEachItem(in: q) { nameRange, valueRange in
            let name = bytes(nameRange), value = valueRange ?? nameRange.upperBound..<nameRange.upperBound
            func once(_ slot: inout Range<Int>?) { if slot == nil { slot = value } else { usual = false } }
            if name.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") }) || Bytes.equal(name, "AWSAccessKeyId")
                || Bytes.equal(name, "X-Amz-Content-Sha256") {
                usual = false
            } else if Bytes.equal(name, "X-Amz-Algorithm") {
                once(&algorithm)
            } else if Bytes.equal(name, "X-Amz-Credential") {
                once(&credential)
            } else if Bytes.equal(name, "X-Amz-Date") {
                once(&date)
            } else if Bytes.equal(name, "X-Amz-Expires") {
                once(&expires)
            } else if Bytes.equal(name, "X-Amz-SignedHeaders") {
                once(&signed)
            } else if Bytes.equal(name, "X-Amz-Signature") {
                once(&signature)
            } else if !SigV4Verifier.isCanonical(name) || !SigV4Verifier.isCanonical(bytes(value))
                        || !PercentEncoding.decodes(bytes: bytes(value)) {
                // Canonical, and text once decoded: an item that does not decode (`%FF`) leaves the
                // full verifier no query to read, so it must not pass here either. (A name has no
                // `%` by now, and canonical ASCII is text.)
                usual = false
            }
            return usual
        }
        guard usual, let algorithm, let credential, let date, let expires, let signed, let signature,
              Bytes.equal(bytes(algorithm), "AWS4-HMAC-SHA256"), date.count == 16,
              signature.count == 64,
              (1...6).contains(expires.count), bytes(expires).allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              SigV4Verifier.isSignedNameList(bytes(signed), separator: "%3B") else { return nil }
        let seconds = bytes(expires).reduce(Int64(0)) { $0 * 10 + Int64($1 - UInt8(ascii: "0")) }
        guard seconds <= SigV4Verifier.maxExpiresSeconds else { return nil }
        var c = ByteCursor(bytes: q, position: credential.lowerBound, end: credential.upperBound)
        guard let (key, day, region) = c.credential(separator: "%2F"), c.position == credential.upperBound else { return nil }
        (accessKey, self.day, self.region, self.date, self.signed, self.signature, self.expires) = (key, day, region, date, signed, signature, seconds)
    }
}
