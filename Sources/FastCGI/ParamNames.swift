import Glibc

/// The params a responder reads, for `FastCGIRequest.params(only:)`. nginx sends ~20 params per
/// request (more with more request headers, each an `HTTP_*` param) and x2s3 reads a few: matched
/// on libfcgi's raw bytes, a param nobody reads costs a length check, not two Strings and a hash
/// insert.
public struct ParamNames: Sendable {
    private let names: [String]
    /// Every name's bytes, back to back.
    private let bytes: [UInt8]
    /// (offset in `bytes`, index in `names`) per name, grouped by length: the names of length
    /// `n` are `entries[groups[n]]`. Plain integers, so matching touches no reference counts.
    private let entries: [(offset: Int, name: Int)]
    private let groups: [Range<Int>]

    public init(_ names: [String]) {
        // Empty names never match (no param has one); duplicates are listed once.
        var unique: [String] = []
        for name in names where !name.isEmpty && !unique.contains(name) { unique.append(name) }
        let longest = unique.map(\.utf8.count).max() ?? 0
        var bytes: [UInt8] = [], entries: [(offset: Int, name: Int)] = [], groups: [Range<Int>] = []
        for length in 0...longest {
            let first = entries.count
            for (index, name) in unique.enumerated() where name.utf8.count == length {
                entries.append((bytes.count, index))
                bytes += name.utf8
            }
            groups.append(first..<entries.count)
        }
        self.names = unique
        self.bytes = bytes
        self.entries = entries
        self.groups = groups
    }

    /// The listed name whose bytes are `candidate`, or nil. The stored String is returned, so a
    /// match allocates nothing.
    func match(_ candidate: UnsafeBufferPointer<UInt8>) -> String? {
        guard let start = candidate.baseAddress, candidate.count < groups.count else { return nil }
        // SAFETY: both arrays outlive the closures, which only read within their counts.
        let found = bytes.withUnsafeBufferPointer { bytes -> Int? in
            guard let base = bytes.baseAddress else { return nil }
            return entries.withUnsafeBufferPointer { entries in
                groups[candidate.count].first { i in
                    // Names of one length mostly end differently (REQUEST_URI, HTTP_ACCEPT,
                    // SERVER_NAME): the last byte rejects most without a call.
                    let name = base + entries[i].offset
                    return name[candidate.count - 1] == start[candidate.count - 1] && memcmp(name, start, candidate.count) == 0
                }.map { entries[$0].name }
            }
        }
        return found.map { names[$0] }
    }
}
