import Escaping
import S3Protocol

/// The Authorization header as the SDKs write it, verified on its bytes: accept only (see
/// FastPath.swift for why, and what the full verifier keeps).
extension SigV4Verifier {
    /// The credential that signed `request` with `header` in the layout
    /// `AWS4-HMAC-SHA256 Credential=K/D/R/s3/aws4_request, SignedHeaders=a;b, Signature=<64 hex>`,
    /// when the signature is valid; nil when it is not, or when the header or request is
    /// anything unusual.
    mutating func acceptSignedHeader(_ request: Request, header: String, now: Int64,
                                     lookup: (String) -> Credential?) -> Credential? {
        // x-amz-date, not Date: the full verifier takes the same one when it parses.
        guard let amzDate = request.header("x-amz-date"), let time = AmzDate.parse(amzDate),
              abs(time - now) <= Self.maxSkewSeconds else { return nil }
        let payloadHeader = request.header("x-amz-content-sha256")
        let payload = payloadHeader ?? SigV4.emptyPayloadHash
        var header = header, date = amzDate
        // SAFETY: the header's and the date's bytes are lent for the closures only; every range below comes
        //  from scanning them (HeaderLayout) and stays inside their counts; nothing keeps a pointer.
        return header.withUTF8 { a -> Credential? in date.withUTF8 { d -> Credential? in
            guard let l = HeaderLayout(scanning: a), Bytes.equal(UnsafeBufferPointer(rebasing: d[0..<8]), UnsafeBufferPointer(rebasing: a[l.day]))
            else { return nil }
            let parts = FastParts(accessKey: l.accessKey, day: l.day, region: l.region, signed: l.signed, signature: l.signature,
                                  separator: ";", presigned: false, dateHeader: amzDate, payloadHeader: payloadHeader)
            return accept(request, parts: parts, in: a, amzDate: d, payload: payload, lookup: lookup)
        } }
    }
}

/// Where the parts of an Authorization header in the SDKs' layout are (byte offsets), after
/// checks stricter than the full verifier's: an alphanumeric key, a lower-case region and
/// signed names, a 64-byte signature ending the header, nothing before.
struct HeaderLayout {
    var accessKey: Range<Int>, day: Range<Int>, region: Range<Int>
    var signed: Range<Int>, signature: Range<Int>

    init?(scanning a: UnsafeBufferPointer<UInt8>) {
        var c = ByteCursor(bytes: a, position: 0, end: a.count)
        guard c.expect("AWS4-HMAC-SHA256 Credential="), let (key, day, region) = c.credential(separator: "/"),
              c.expect(", SignedHeaders=") else { return nil }
        // Names, none empty: the run stops at a `;` first or after another; a last one is refused below.
        var previous = UInt8(ascii: ";")
        let signed = c.run { b in
            defer { previous = b }
            return isLowerAlphanumeric(b) || b == UInt8(ascii: "-") || (b == UInt8(ascii: ";") && previous != UInt8(ascii: ";"))
        }
        guard !signed.isEmpty, a[signed.upperBound - 1] != UInt8(ascii: ";"), c.expect(", Signature=") else { return nil }
        // The rest of the header: comparing it with the MAC's lower-case hex checks its digits.
        let signature = c.position..<a.count
        guard signature.count == 64 else { return nil }
        (accessKey, self.day, self.region, self.signed, self.signature) = (key, day, region, signed, signature)
    }
}
