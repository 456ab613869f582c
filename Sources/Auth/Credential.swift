/// One access key x2s3 accepts (`credentials:` in the config): who may read which private
/// buckets. The secret comes from a file and is never printed: `description` leaves it out, so
/// a config or credential that ends up in a log line shows only the key id and the file.
public struct Credential: Sendable, Equatable, CustomStringConvertible {
    public var accessKey: String
    public var secretKey: String
    /// Where the secret was read from (named in startup errors, re-read on reload).
    public var secretKeyPath: String
    /// Lower-cased bucket names this key may read; nil means every bucket (`buckets: ["*"]`).
    public var buckets: Set<String>?

    public init(accessKey: String, secretKey: String, secretKeyPath: String = "", buckets: Set<String>?) {
        self.accessKey = accessKey
        self.secretKey = secretKey
        self.secretKeyPath = secretKeyPath
        self.buckets = buckets.map { Set($0.map { $0.lowercased() }) }
    }

    /// Whether this key may read `bucket` (case-insensitive, as bucket names are).
    public func allows(bucket: String) -> Bool {
        guard let buckets else { return true }
        // Bucket names are nearly always lower case already: no copy then.
        let lower = bucket.utf8.contains { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") } ? bucket.lowercased() : bucket
        return buckets.contains(lower)
    }

    public var description: String {
        "Credential(\(accessKey), secret from \(secretKeyPath), buckets: \(buckets.map { $0.sorted().joined(separator: ",") } ?? "*"))"
    }
}

/// Comparison whose time does not depend on where the inputs differ (only on their lengths,
/// which are not secret: a signature is always 64 hex digits).
func constantTimeEqual<A: Collection, B: Collection>(_ a: A, _ b: B) -> Bool where A.Element == UInt8, B.Element == UInt8 {
    guard a.count == b.count else { return false }
    var diff: UInt8 = 0
    var i = a.startIndex, j = b.startIndex
    while i != a.endIndex {
        diff |= a[i] ^ b[j]
        i = a.index(after: i)
        j = b.index(after: j)
    }
    return diff == 0
}

/// The same for two strings' UTF-8 bytes.
func constantTimeEqual(_ a: String, _ b: String) -> Bool {
    var a = a, b = b
    return a.withUTF8 { x in b.withUTF8 { y in constantTimeEqual(x, y) } }
}
