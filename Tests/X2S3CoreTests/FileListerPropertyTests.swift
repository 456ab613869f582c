@testable import S3Protocol
@testable import Storage
import Testing
@testable import X2S3Core

/// Random trees, random queries: every full paging must equal the brute-force model.
@Suite struct FileListerPropertyTests {
    static let pieces = ["a", "b", "-", ".", "0", "ab", "a-b", "~", " ", "+", "\u{E9}", "\u{65E5}", "/", "z"]
    static let delimiters: [String?] = [nil, "/", "-", "a", "ab", ""]
    static let maxKeys = [0, 1, 2, 7, 1000]

    struct Tree {
        let temp = TempTree()
        var keys: [String] = []
        var dirs: [String] = []
    }

    static func randomName(_ rng: inout SplitMix64) -> String {
        var name = ""
        for _ in 0..<Int.random(in: 1...3, using: &rng) {
            var piece = pieces.randomElement(using: &rng)!
            if piece == "/" { piece = "_" }
            name += piece
        }
        return name == "." || name == ".." ? name + "x" : name
    }

    static func build(seed: UInt64) -> Tree {
        var rng = SplitMix64(seed: seed)
        var tree = Tree()
        func fill(_ dir: String, depth: Int) {
            var used: Set<String> = []
            for _ in 0..<Int.random(in: 0...(depth == 0 ? 12 : 7), using: &rng) {
                let name = randomName(&rng)
                guard used.insert(name).inserted else { continue }
                let path = dir + name
                if depth < 4 && Int.random(in: 0..<100, using: &rng) < 45 {
                    tree.temp.dir(path)
                    tree.dirs.append(path + "/")
                    fill(path + "/", depth: depth + 1)
                } else {
                    tree.temp.file(path, size: Int.random(in: 0...3, using: &rng))
                    tree.keys.append(path)
                }
            }
        }
        fill("", depth: 0)
        return tree
    }

    /// A prefix or position worth asking about: a cut of a real key or directory (at a
    /// character boundary), or something arbitrary.
    static func interestingString(_ tree: Tree, _ rng: inout SplitMix64) -> String {
        let pool = tree.keys + tree.dirs
        switch Int.random(in: 0..<10, using: &rng) {
        case 0: return ""
        case 1: return randomName(&rng)
        case 2: return pool.randomElement(using: &rng) ?? ""
        default:
            guard let s = pool.randomElement(using: &rng) else { return "a" }
            let chars = Array(s)
            return String(chars[0..<Int.random(in: 0...chars.count, using: &rng)])
        }
    }

    @Test(arguments: 1...40)
    func pagingAnyTreeMatchesTheModel(seed: Int) throws {
        let tree = Self.build(seed: UInt64(seed))
        let model = ListingModel(keys: tree.keys)
        let root = tree.temp.root()
        // Half the trees page with a cache that trusts fresh mtimes, half with none usable.
        let cache = SortedNameCache(racyWindowSeconds: seed % 2 == 0 ? -10 : 1000)
        let lister = FileLister(root: root, bucket: "bucket", cache: cache) { _, _ in "\"e\"" }
        var rng = SplitMix64(seed: UInt64(seed) &* 7919)
        for _ in 0..<60 {
            let version: ListQuery.Version = Bool.random(using: &rng) ? .v2 : .v1
            var q = ListQuery(version: version)
            q.prefix = Int.random(in: 0..<3, using: &rng) == 0 ? "" : Self.interestingString(tree, &rng)
            q.delimiter = Self.delimiters.randomElement(using: &rng)!
            q.maxKeys = Self.maxKeys.randomElement(using: &rng)!
            var position: String?
            if Bool.random(using: &rng) {
                position = Self.interestingString(tree, &rng)
                if version == .v2 { q.startAfter = position } else { q.marker = position }
            }
            let expected = model.items(prefix: q.prefix, delimiter: q.delimiter, after: position)
            let context = "seed \(seed) \(version) prefix=\(q.prefix.debugDescription) delimiter=\(String(describing: q.delimiter)) max=\(q.maxKeys) after=\(String(describing: position))"
            if q.maxKeys == 0 {
                let page = try lister.list(q)
                #expect(page.items.isEmpty && !page.isTruncated, "\(context)")
                continue
            }
            let first = try lister.list(q)
            #expect(first.items == Array(expected.prefix(q.maxKeys)), "\(context)")
            #expect(first.isTruncated == (expected.count > q.maxKeys), "\(context)")
            let (all, pages) = try lister.listAll(q)
            #expect(all == expected, "\(context)")
            #expect(pages == max(1, (expected.count + q.maxKeys - 1) / q.maxKeys), "\(context)")
        }
    }

    /// Random trees through the shared index (every directory indexed): the worker that wrote
    /// the files and a fresh one that only maps them answer every page exactly as the
    /// in-memory path does, resume positions included.
    @Test(arguments: 1...20)
    func pagingThroughTheSharedIndexMatchesTheInMemoryPath(seed: Int) throws {
        let tree = Self.build(seed: UInt64(seed) &+ 1000)
        let scratch = TempTree()
        func lister(_ cache: SortedNameCache) -> FileLister {
            FileLister(root: tree.temp.root(), bucket: "bucket", cache: cache) { _, _ in "\"e\"" }
        }
        func shared() -> SortedNameCache {
            SortedNameCache(racyWindowSeconds: -10, index: SortedNameIndex(path: scratch.path + "/index", diskBudget: 1 << 30),
                            indexMinEntries: 1)
        }
        let memory = lister(SortedNameCache(racyWindowSeconds: -10))
        let writer = lister(shared())
        let readerCache = shared()
        let reader = lister(readerCache)
        let model = ListingModel(keys: tree.keys)
        // The writer visits every directory first, so the reader never has to sort.
        #expect(try writer.listAll(ListQuery(version: .v2)).items == model.items(prefix: "", delimiter: nil, after: nil))
        var rng = SplitMix64(seed: UInt64(seed) &* 104_729)
        for round in 0..<40 {
            var q = ListQuery(version: .v2)
            q.prefix = Int.random(in: 0..<3, using: &rng) == 0 ? "" : Self.interestingString(tree, &rng)
            q.delimiter = Self.delimiters.randomElement(using: &rng)!
            q.maxKeys = Self.maxKeys.filter { $0 > 0 }.randomElement(using: &rng)!
            if Bool.random(using: &rng) { q.startAfter = Self.interestingString(tree, &rng) }
            let context = "seed \(seed) round \(round) prefix=\(q.prefix.debugDescription) delimiter=\(String(describing: q.delimiter)) max=\(q.maxKeys) after=\(String(describing: q.startAfter))"
            let expected = try memory.list(q)
            for l in [reader, writer] {
                let page = try l.list(q)
                #expect(page.items == expected.items, "\(context)")
                #expect(page.nextContinuationToken == expected.nextContinuationToken, "\(context)")
                #expect(try l.listAll(q).items == model.items(prefix: q.prefix, delimiter: q.delimiter, after: q.startAfter), "\(context)")
            }
        }
        // Only empty directories (nothing to share) are read again.
        let empty = tree.dirs.filter { d in !(tree.keys + tree.dirs).contains { $0 != d && $0.hasPrefix(d) } }
        let emptyRoot = tree.keys.isEmpty && tree.dirs.isEmpty
        #expect(readerCache.loads <= empty.count + (emptyRoot ? 1 : 0))
        #expect(readerCache.indexHits > 0 || emptyRoot)
    }
}
