@testable import S3Protocol
@testable import Storage
@testable import X2S3Core

/// One result of a listing, in the form tests compare: a key or a common prefix.
enum ListItem: Equatable, CustomStringConvertible {
    case key(String)
    case prefix(String)

    var bytes: [UInt8] {
        switch self {
        case .key(let s), .prefix(let s): return Array(s.utf8)
        }
    }
    var description: String {
        switch self {
        case .key(let s): return "K:\(s)"
        case .prefix(let s): return "P:\(s)"
        }
    }
}

extension ListPage {
    /// Keys and common prefixes merged in S3 order (UTF-8 bytes).
    var items: [ListItem] {
        (objects.map { ListItem.key($0.key) } + commonPrefixes.map { ListItem.prefix($0) })
            .sorted { $0.bytes.lexicographicallyPrecedes($1.bytes) }
    }
}

/// The brute-force reference: every key of the tree, sorted; then filter by prefix, roll up by
/// delimiter, drop items at or before the position, page.
struct ListingModel {
    let keys: [[UInt8]]

    init(keys: [String]) {
        self.keys = keys.map { Array($0.utf8) }.sorted { $0.lexicographicallyPrecedes($1) }
    }

    func items(prefix: String, delimiter: String?, after position: String?) -> [ListItem] {
        let p = Array(prefix.utf8)
        let d = delimiter.flatMap { $0.isEmpty ? nil : Array($0.utf8) }
        var out: [ListItem] = []
        for k in keys where k.starts(with: p) {
            var item = ListItem.key(String(decoding: k, as: UTF8.self))
            if let d, let cp = FileLister.commonPrefix(of: k, prefixCount: p.count, delimiter: d) {
                item = .prefix(String(decoding: cp, as: UTF8.self))
            }
            if out.last != item { out.append(item) }
        }
        guard let position else { return out }
        let pos = Array(position.utf8)
        return out.filter { pos.lexicographicallyPrecedes($0.bytes) }
    }
}

extension FileLister {
    /// Follows a listing to its end (V2 tokens, or V1 markers: NextMarker, else the last key,
    /// as SDKs do), checking each page's shape. Returns every item and the page count.
    func listAll(_ query: ListQuery, maxPages: Int = 2_000) throws -> (items: [ListItem], pages: Int) {
        var q = query
        var all: [ListItem] = []
        var pages = 0
        while pages < maxPages {
            let page = try list(q)
            pages += 1
            let items = page.items
            if items.count > q.maxKeys { throw ListingTestFailure("page larger than max-keys") }
            if let previous = all.last, let first = items.first, !previous.bytes.lexicographicallyPrecedes(first.bytes) {
                throw ListingTestFailure("page \(pages) repeats or goes back: \(first) after \(previous)")
            }
            all += items
            guard page.isTruncated else {
                if page.nextContinuationToken != nil || page.nextMarker != nil { throw ListingTestFailure("next position on a last page") }
                return (all, pages)
            }
            if items.isEmpty { throw ListingTestFailure("a truncated page must make progress") }
            switch q.version {
            case .v2:
                q.continuationToken = page.nextContinuationToken!
            case .v1:
                if q.delimiter?.isEmpty == false {
                    q.marker = page.nextMarker!
                    if page.nextMarker != String(decoding: items.last!.bytes, as: UTF8.self) { throw ListingTestFailure("NextMarker is not the last item") }
                } else {
                    if page.nextMarker != nil { throw ListingTestFailure("NextMarker without a delimiter") }
                    q.marker = page.objects.last!.key
                }
            }
        }
        throw ListingTestFailure("more than \(maxPages) pages")
    }
}

/// A listing that broke an invariant while being followed page by page.
struct ListingTestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A small deterministic RNG (SplitMix64) so failures reproduce from the seed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
}
