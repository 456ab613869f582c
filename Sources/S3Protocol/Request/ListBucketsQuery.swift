/// ListBuckets' paging parameters, as AWS takes them since 2024: `max-buckets` (1…10,000),
/// `prefix` (a plain string prefix of the name) and an opaque `continuation-token`.
public struct ListBucketsQuery: Sendable, Equatable {
    /// AWS's page size when none is given, and the most it allows.
    public static let maxPage = 10_000

    public var maxBuckets = ListBucketsQuery.maxPage
    /// nil when the request sent none (then the response echoes none).
    public var prefix: String?
    public var continuationToken: String?

    public init() {}

    /// The parameters of a ListBuckets request (the last of a repeated one, as S3 reads queries).
    public init(query: [QueryItem]) throws(S3Error) {
        self.init()
        for item in query {
            switch item.name {
            case "max-buckets":
                let text = item.value ?? ""
                guard !text.isEmpty, text.utf8.count <= 6, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                      let n = Int(text), (1...Self.maxPage).contains(n) else {
                    throw .invalidArgument("Argument max-buckets must be an integer between 1 and \(Self.maxPage)",
                                           argumentName: "max-buckets", argumentValue: text)
                }
                maxBuckets = n
            case "prefix": prefix = item.value ?? ""
            case "continuation-token": continuationToken = item.value ?? ""
            default: break
            }
        }
    }

    /// One page of `names` (the browseable buckets in config order): the indices to list and
    /// the token for the next page, if any remain. Throws for a token this listing did not issue.
    public func page(of names: [String]) throws(S3Error) -> (indices: [Int], next: String?) {
        let p = prefix ?? ""
        let selected = names.indices.filter { p.isEmpty || names[$0].utf8.starts(with: p.utf8) }
        var start = 0
        if let token = continuationToken {
            let position = try ContinuationToken.bucketListPosition(of: token, prefix: p)
            let lower = position.name.lowercased()
            if let i = selected.firstIndex(where: { names[$0].lowercased() == lower }) {
                start = i + 1
            } else {
                // That bucket left the config (a reload): the one after it now holds its place.
                start = min(position.index, selected.count)
            }
        }
        let end = min(start + maxBuckets, selected.count)
        let indices = Array(selected[start..<end])
        guard end < selected.count, let last = indices.last else { return (indices, nil) }
        return (indices, ContinuationToken.makeBucketList(after: names[last], index: end - 1, prefix: p))
    }
}
