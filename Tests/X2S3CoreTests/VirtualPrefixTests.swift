import Glibc
import Posix
@testable import S3Protocol
@testable import Storage
import Testing
@testable import X2S3Core

/// `virtual_prefix`: a directory mounted at a key prefix inside the bucket.
@Suite struct VirtualPrefixTests {
    static let files = ["x", "a-b", "sub/y", "sub/z/w", "sub-q", "\u{E9}"]

    func lister(_ tree: TempTree, _ vp: String) -> FileLister {
        FileLister(root: tree.root(), bucket: "bucket", virtualPrefix: vp) { st, _ in "\"\(st.size)\"" }
    }

    func tree() -> TempTree {
        let t = TempTree()
        for k in Self.files { t.file(k) }
        return t
    }

    @Test func normalisedAsTheOriginalDoes() {
        #expect(FileOptions.normalizedVirtualPrefix("a/b") == "a/b/")
        #expect(FileOptions.normalizedVirtualPrefix("/a/b/") == "a/b/")
        #expect(FileOptions.normalizedVirtualPrefix("//") == "")
        #expect(FileOptions.normalizedVirtualPrefix("") == "")
    }

    /// Every prefix, delimiter, start-after and page size answers as a bucket holding the keys
    /// `vp + file` would, page by page with tokens and markers.
    @Test(arguments: ["a/b/", "data/", "z/"])
    func listingsAreThoseOfTheMountedKeys(vp: String) throws {
        let t = tree()
        let l = lister(t, vp)
        let model = ListingModel(keys: Self.files.map { vp + $0 })
        let prefixes = ["", "a", "a/", "a/b", "a/b/", "a/b/s", "a/b/sub/", "d", "data/", "data/sub", "z", "z/x", "b", "zz", "\u{E9}"]
        let positions: [String?] = [nil, "", "a", "a/b/", "a/b/sub/", "a/b/sub/y", "data/sub", "z/", "z/sub-q", "zz"]
        for prefix in prefixes {
            for delimiter in [nil, "/", "-", "b/"] as [String?] {
                for position in positions {
                    let want = model.items(prefix: prefix, delimiter: delimiter, after: position)
                    for version in [ListQuery.Version.v2, .v1] {
                        for maxKeys in [1, 2, 1000] {
                            var q = ListQuery(version: version)
                            q.prefix = prefix
                            q.delimiter = delimiter
                            q.maxKeys = maxKeys
                            if version == .v2 { q.startAfter = position } else { q.marker = position }
                            let got = try l.listAll(q).items
                            #expect(got == want, "vp \(vp) prefix \(prefix) delimiter \(delimiter ?? "-") after \(position ?? "-") max \(maxKeys) \(version)")
                        }
                    }
                }
            }
        }
    }

    @Test func theMountPointsAncestorsAreCommonPrefixes() throws {
        let t = tree()
        let l = lister(t, "a/b/")
        var q = ListQuery(version: .v2)
        q.delimiter = "/"
        #expect(try l.list(q).items == [.prefix("a/")])
        q.prefix = "a/"
        #expect(try l.list(q).items == [.prefix("a/b/")])
        q.prefix = "a/b/"
        #expect(try l.list(q).items == [.key("a/b/a-b"), .key("a/b/sub-q"), .prefix("a/b/sub/"), .key("a/b/x"), .key("a/b/\u{E9}")])
        q.maxKeys = 0
        #expect(try l.list(q).items == [])
    }

    @Test func anEmptyDirectoryShowsNoAncestors() throws {
        let t = TempTree()
        let l = lister(t, "a/b/")
        var q = ListQuery(version: .v2)
        q.delimiter = "/"
        #expect(try l.list(q).items == [])
    }

    @Test func getAndHeadStripThePrefixAndRefuseKeysOutsideIt() throws {
        let t = tree()
        var options = FileOptions(path: t.path)
        options.virtualPrefix = "a/b/"
        let backend = try FileBackend(bucket: "bucket", options: options)
        #expect(try backend.head("a/b/sub/y").size == 0)
        #expect(try backend.open("a/b/x", range: nil).info.size == 0)
        for key in ["x", "sub/y", "a/b", "a/b/", "a/bx", "a/b/nope"] {
            #expect(throws: S3Error.noSuchKey(key: key)) { try backend.head(key) }
            #expect(throws: S3Error.noSuchKey(key: key)) { try backend.open(key, range: nil) }
        }
    }
}
