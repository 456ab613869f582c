import Escaping

/// The canonical request's parts written as bytes, for `SigV4Verifier.verify`: what signers
/// send is nearly always canonical already and is copied as it came; anything else goes through
/// the String forms (`canonicalURI`, `canonicalQuery`), which define the result.
extension SigV4Verifier {
    /// Appends the canonical request's method, URI and query, then one `name:value` line per
    /// signed name (`names`: the names separated by `separator`, as they came), the blank
    /// line, the names joined by `;`, and the payload hash. `dateHeader` and `payloadHeader`:
    /// the values of `x-amz-date` and `x-amz-content-sha256` when the caller has looked them up
    /// already (nil: look them up). `queryIsCanonical`: every item of the query is known to be
    /// canonically encoded (PresignedLayout checked), so only their order is checked.
    static func appendCanonicalRequest(_ request: Request, names: UnsafeBufferPointer<UInt8>, separator: StaticString,
                                       presigned: Bool, payload: String, dateHeader: String? = nil, payloadHeader: String? = nil,
                                       queryIsCanonical: Bool = false, to out: inout [UInt8]) {
        let newline = UInt8(ascii: "\n")
        out.append(contentsOf: request.method.utf8)
        out.append(newline)
        appendCanonicalURI(request.rawPath, to: &out)
        out.append(newline)
        appendCanonicalQuery(request.query, excludingSignature: presigned, itemsAreCanonical: queryIsCanonical, to: &out)
        out.append(newline)
        forEachName(names, separator: separator) { name in
            out.append(contentsOf: name)
            out.append(UInt8(ascii: ":"))
            if let value = headerValue(request, named: name, dateHeader: dateHeader, payloadHeader: payloadHeader) {
                appendTrimmedHeaderValue(value, to: &out)
            }
            out.append(newline)
        }
        out.append(newline)
        // SAFETY: a StaticString's bytes are static; the view covers exactly their count.
        if Bytes.equal(UnsafeBufferPointer(start: separator.utf8Start, count: separator.utf8CodeUnitCount), ";") {
            out.append(contentsOf: names)  // a header's list is the line as it stands
        } else {
            var first = true
            forEachName(names, separator: separator) { name in
                if !first { out.append(UInt8(ascii: ";")) }
                first = false
                out.append(contentsOf: name)
            }
        }
        out.append(newline)
        out.append(contentsOf: payload.utf8)
    }

    /// The value of a signed header: the common names are looked up with literal keys (a
    /// String made from bytes longer than 15 is an allocation).
    static func headerValue(_ request: Request, named name: UnsafeBufferPointer<UInt8>, dateHeader: String? = nil,
                            payloadHeader: String? = nil) -> String? {
        if Bytes.equal(name, "host") { return request.header("host") }
        if Bytes.equal(name, "x-amz-date") { return dateHeader ?? request.header("x-amz-date") }
        if Bytes.equal(name, "x-amz-content-sha256") { return payloadHeader ?? request.header("x-amz-content-sha256") }
        if Bytes.equal(name, "range") { return request.header("range") }
        return request.header(String(decoding: name, as: UTF8.self))
    }

    /// Calls `body` with each name of a signed-header list, as separated by `separator`.
    static func forEachName(_ list: UnsafeBufferPointer<UInt8>, separator: StaticString, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        let width = separator.utf8CodeUnitCount, first = separator.utf8Start.pointee
        var start = 0, i = 0
        // SAFETY: every range is inside the list (i + width <= count is checked before the slice).
        while true {
            i = Bytes.firstIndex(of: first, in: list, from: i, to: list.count)
            if i == list.count {
                body(UnsafeBufferPointer(rebasing: list[start...]))
                return
            }
            if i + width <= list.count && Bytes.equal(UnsafeBufferPointer(rebasing: list[i..<(i + width)]), separator) {
                body(UnsafeBufferPointer(rebasing: list[start..<i]))
                i += width
                start = i
            } else {
                i += 1
            }
        }
    }

    /// The canonical URI's bytes: nearly every signer sends the path already in canonical form
    /// (unreserved bytes, `/`, upper-case escapes of other bytes but `/`), which decoding and
    /// encoding once gives back unchanged.
    static func appendCanonicalURI(_ rawPath: String, to out: inout [UInt8]) {
        let copied = rawPath.utf8.withContiguousStorageIfAvailable { path -> Bool in
            guard !path.isEmpty, isCanonicalPath(path) else { return false }
            out.append(contentsOf: path)
            return true
        }
        if copied != true { out.append(contentsOf: canonicalURI(rawPath).utf8) }
    }

    fileprivate static func isCanonicalPath(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        while i < b.count {
            if ByteSet.isUnreserved(b[i]) || b[i] == UInt8(ascii: "/") {
                i += 1
                continue
            }
            guard b[i] == UInt8(ascii: "%"), i + 2 < b.count, let hi = upperHexValue(b[i + 1]), let lo = upperHexValue(b[i + 2]) else {
                return false
            }
            let decoded = hi << 4 | lo
            guard !ByteSet.isUnreserved(decoded), decoded != UInt8(ascii: "/") else { return false }
            i += 3
        }
        return true
    }

    /// The canonical query's bytes. When every name and value is already canonically encoded
    /// (what signers send), the items are sorted as they came; otherwise each is decoded and
    /// encoded once.
    static func appendCanonicalQuery(_ rawQuery: Substring, excludingSignature: Bool, itemsAreCanonical: Bool = false,
                                     to out: inout [UInt8]) {
        guard !rawQuery.isEmpty else { return }
        let done = rawQuery.utf8.withContiguousStorageIfAvailable {
            appendInOrder($0, excludingSignature: excludingSignature, itemsAreCanonical: itemsAreCanonical, to: &out)
                || appendSortedQuery($0, excludingSignature: excludingSignature, to: &out)
        }
        if done != true { out.append(contentsOf: canonicalQuery(String(rawQuery), excludingSignature: excludingSignature).utf8) }
    }

    /// The items of `b` joined as they came, when every name and value is canonically encoded
    /// and they are in canonical order already (what the SDKs' presigned URLs are); false
    /// (nothing appended) otherwise. Saves building and sorting the list of items.
    fileprivate static func appendInOrder(_ b: UnsafeBufferPointer<UInt8>, excludingSignature: Bool, itemsAreCanonical: Bool,
                                          to out: inout [UInt8]) -> Bool {
        // SAFETY: every range rebased below was found by scanning b, so it lies inside 0..<b.count; b is
        //  valid for this whole call and the rebased views are only read here, never kept.
        var ordered = true
        var previous: (name: Range<Int>, value: Range<Int>)?
        // Whether the kept items are b's first bytes as they stand (every one `name=value`, one `&`
        // apart, no signature among them; the SDKs put it last): then they are copied at once.
        var asItStands = true, keptEnd = 0, skipped = false
        RawQuery.forEachItem(in: b) { name, value in
            let n = UnsafeBufferPointer(rebasing: b[name])
            if excludingSignature && Bytes.equal(n, "X-Amz-Signature") {
                skipped = true
                return true
            }
            let value = value ?? name.upperBound..<name.upperBound
            let v = UnsafeBufferPointer(rebasing: b[value])
            guard itemsAreCanonical || (isCanonical(n) && isCanonical(v)) else { ordered = false; return false }
            if let p = previous {
                let pn = UnsafeBufferPointer(rebasing: b[p.name])
                // Strictly after the previous item; equal items (a repeated pair) take the sort.
                let after = Bytes.equal(pn, n) ? Bytes.precedes(UnsafeBufferPointer(rebasing: b[p.value]), v) : Bytes.precedes(pn, n)
                guard after else { ordered = false; return false }
            }
            if skipped || name.lowerBound != (previous == nil ? 0 : keptEnd + 1) || value.lowerBound != name.upperBound + 1 {
                asItStands = false
            }
            previous = (name, value)
            keptEnd = value.upperBound
            return true
        }
        guard ordered else { return false }
        if asItStands {
            out.append(contentsOf: UnsafeBufferPointer(rebasing: b[..<keptEnd]))
            return true
        }
        var first = true
        RawQuery.forEachItem(in: b) { name, value in
            let n = UnsafeBufferPointer(rebasing: b[name])
            if excludingSignature && Bytes.equal(n, "X-Amz-Signature") { return true }
            if !first { out.append(UInt8(ascii: "&")) }
            first = false
            out.append(contentsOf: n)
            out.append(UInt8(ascii: "="))
            if let value { out.append(contentsOf: UnsafeBufferPointer(rebasing: b[value])) }
            return true
        }
        return true
    }

    /// The items of `b` sorted by name then value and joined, when every name and value is
    /// canonically encoded already; false (nothing appended) otherwise.
    fileprivate static func appendSortedQuery(_ b: UnsafeBufferPointer<UInt8>, excludingSignature: Bool, to out: inout [UInt8]) -> Bool {
        // SAFETY: every range rebased below was found by scanning b, so it lies inside 0..<b.count; b is
        //  valid for this whole call and the rebased views are only read here, never kept.
        var pairs: [(name: Range<Int>, value: Range<Int>)] = []
        var canonical = true
        RawQuery.forEachItem(in: b) { name, value in
            let value = value ?? name.upperBound..<name.upperBound
            if excludingSignature && Bytes.equal(UnsafeBufferPointer(rebasing: b[name]), "X-Amz-Signature") { return true }
            guard isCanonical(UnsafeBufferPointer(rebasing: b[name])), isCanonical(UnsafeBufferPointer(rebasing: b[value])) else {
                canonical = false
                return false
            }
            pairs.append((name, value))
            return true
        }
        guard canonical else { return false }
        pairs.sort { x, y in
            let xn = UnsafeBufferPointer(rebasing: b[x.name]), yn = UnsafeBufferPointer(rebasing: b[y.name])
            if Bytes.equal(xn, yn) {
                return Bytes.precedes(UnsafeBufferPointer(rebasing: b[x.value]), UnsafeBufferPointer(rebasing: b[y.value]))
            }
            return Bytes.precedes(xn, yn)
        }
        for (i, pair) in pairs.enumerated() {
            if i > 0 { out.append(UInt8(ascii: "&")) }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: b[pair.name]))
            out.append(UInt8(ascii: "="))
            out.append(contentsOf: UnsafeBufferPointer(rebasing: b[pair.value]))
        }
        return true
    }

    /// Whether a query name or value is in canonical form already: unreserved bytes and
    /// upper-case escapes of other bytes.
    static func isCanonical(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        while i < b.count {
            if ByteSet.isUnreserved(b[i]) {
                i += 1
                continue
            }
            guard b[i] == UInt8(ascii: "%"), i + 2 < b.count, let hi = upperHexValue(b[i + 1]), let lo = upperHexValue(b[i + 2]),
                  !ByteSet.isUnreserved(hi << 4 | lo) else { return false }
            i += 3
        }
        return true
    }

    /// A header value with leading and trailing spaces and tabs removed and inner runs of them
    /// collapsed to one space (what `trimHeaderValue` returns), appended.
    static func appendTrimmedHeaderValue(_ value: String, to out: inout [UInt8]) {
        let done: Void? = value.utf8.withContiguousStorageIfAvailable { bytes in
            if isTrimmed(bytes) { out.append(contentsOf: bytes) } else { appendTrimmed(bytes, to: &out) }
        }
        if done == nil { appendTrimmed(Array(value.utf8), to: &out) }
    }

    fileprivate static func appendTrimmed<C: Collection<UInt8>>(_ value: C, to out: inout [UInt8]) {
        var pendingSpace = false, started = false
        for b in value {
            if b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") {
                pendingSpace = started
            } else {
                if pendingSpace { out.append(UInt8(ascii: " ")) }
                pendingSpace = false
                started = true
                out.append(b)
            }
        }
    }

    /// No tab, no leading, trailing or double space.
    fileprivate static func isTrimmed(_ u: UnsafeBufferPointer<UInt8>) -> Bool {
        // Nearly every signed value (a host, a date, a digest) has no space or tab at all.
        if Bytes.firstIndex(of: UInt8(ascii: " "), in: u, from: 0, to: u.count) == u.count,
           Bytes.firstIndex(of: UInt8(ascii: "\t"), in: u, from: 0, to: u.count) == u.count { return true }
        var previousSpace = true
        for b in u {
            if b == UInt8(ascii: "\t") || (b == UInt8(ascii: " ") && previousSpace) { return false }
            previousSpace = b == UInt8(ascii: " ")
        }
        return u.last != UInt8(ascii: " ")
    }

    fileprivate static func upperHexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: return b - 0x30
        case 0x41...0x46: return b - 0x41 + 10
        default: return nil
        }
    }
}
