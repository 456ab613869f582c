public import S3Protocol

/// Where a folder page sits in its listing, carried entirely in the URL: continuation tokens
/// are opaque and the server keeps no state, so "previous" works by remembering the tokens
/// of the pages before this one (`?continuation-token=T3&page=4&prev=T1&prev=T2`).
/// The trail is bounded: the oldest tokens are dropped when it grows too long, after which
/// "previous" still steps back while it can and "first page" always works.
public struct PageTrail: Sendable, Equatable {
    /// The token of this page; nil on the first page.
    public var token: String?
    /// Tokens of the pages before this one that are still known (pages 2…number-1, oldest
    /// first; some of the oldest may have been dropped).
    public var previous: [String]
    /// 1-based page number (shown, and used to tell a complete trail from a cut one).
    public var number: Int

    /// Default room for the trail in a URL: S3Request accepts URIs up to 8 KiB and a key
    /// takes up to ~3 KiB once encoded.
    public static let defaultBudget = 4000

    public init(token: String? = nil, previous: [String] = [], number: Int = 1) {
        self.token = token
        self.previous = previous
        self.number = number
    }

    /// Reads the trail from a folder page's query; tampered or missing values fall back safely.
    public init(query: [QueryItem]) {
        let token = query.last { $0.name == "continuation-token" }?.value ?? ""
        guard !token.isEmpty else {
            self.init()
            return
        }
        let prev = query.filter { $0.name == "prev" }.compactMap(\.value).filter { !$0.isEmpty }
        let claimed = (query.last { $0.name == "page" }?.value).flatMap { Int($0) } ?? 0
        self.init(token: token, previous: prev, number: min(max(claimed, prev.count + 2), 10_000_000))
    }

    /// True when `previous` holds every page before this one (nothing was dropped).
    public var isComplete: Bool { token == nil || previous.count == number - 2 }

    /// The query string of the page after this one, which starts at `nextToken`; the trail is
    /// cut from its oldest end to fit `budget` bytes.
    public func nextQuery(nextToken: String, budget: Int = PageTrail.defaultBudget) -> String {
        var trail = previous
        if let token { trail.append(token) }
        var parts = trail.map { "&prev=" + HTMLPages.urlSegment($0) }
        var size = parts.reduce(0) { $0 + $1.utf8.count }
        while size > budget, !parts.isEmpty {
            size -= parts.removeFirst().utf8.count
        }
        return "?continuation-token=\(HTMLPages.urlSegment(nextToken))&page=\(number + 1)" + parts.joined()
    }

    /// The query string of the page before this one: `""` for the first page (the bare folder
    /// URL), nil on the first page itself or when that page's token was dropped from the trail.
    public var previousQuery: String? {
        guard token != nil else { return nil }
        if number == 2 && previous.isEmpty { return "" }
        guard let last = previous.last else { return nil }
        return "?continuation-token=\(HTMLPages.urlSegment(last))&page=\(number - 1)"
            + previous.dropLast().map { "&prev=" + HTMLPages.urlSegment($0) }.joined()
    }
}
