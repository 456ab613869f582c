import Glibc
import Posix
@testable import S3Protocol
@testable import Storage
import Testing
@testable import X2S3Core

@Suite struct FileListerTests {
    func lister(_ tree: TempTree, bucket: String = "bucket", cache: SortedNameCache = SortedNameCache()) -> FileLister {
        FileLister(root: tree.root(), bucket: bucket, cache: cache) { st, _ in "\"\(st.size)-\(st.mtimeSeconds)\"" }
    }

    func query(_ version: ListQuery.Version = .v2, prefix: String = "", delimiter: String? = nil, maxKeys: Int = 1000) -> ListQuery {
        var q = ListQuery(version: version)
        q.prefix = prefix
        q.delimiter = delimiter
        q.maxKeys = maxKeys
        return q
    }

    func keys(_ page: ListPage) -> [String] { page.objects.map(\.key) }

    @Test func keysComeInUTF8ByteOrderAcrossTheWholeTree() throws {
        let t = TempTree()
        for k in ["a0", "a/c/d", "a/b", "a-b", "a.txt", "A", "\u{E9}", "z", "a/b0", "a/b-"] { t.file(k) }
        let page = try lister(t).list(query())
        #expect(keys(page) == ["A", "a-b", "a.txt", "a/b", "a/b-", "a/b0", "a/c/d", "a0", "z", "\u{E9}"])
    }

    @Test func aFileAndADirectorySharingAPrefixInterleaveAsS3Would() throws {
        let t = TempTree()
        for k in ["dir", "dir.txt", "dir/x", "dir-x"] { t.file(k == "dir" ? "dir0" : k) }
        // A file cannot share the directory's own name; "dir0" sits right after "dir/".
        #expect(keys(try lister(t).list(query())) == ["dir-x", "dir.txt", "dir/x", "dir0"])
        let grouped = try lister(t).list(query(prefix: "dir", delimiter: "/"))
        #expect(grouped.items == [.key("dir-x"), .key("dir.txt"), .prefix("dir/"), .key("dir0")])
    }

    @Test func thePrefixIsAPlainStringPrefixNotAFolder() throws {
        let t = TempTree()
        for k in ["dir1/sub/x", "dir1/sum.txt", "dir1/other", "dir1/su"] { t.file(k) }
        #expect(keys(try lister(t).list(query(prefix: "dir1/su"))) == ["dir1/su", "dir1/sub/x", "dir1/sum.txt"])
        let grouped = try lister(t).list(query(prefix: "dir1/sub", delimiter: "/"))
        #expect(grouped.items == [.prefix("dir1/sub/")])
        #expect(try lister(t).list(query(prefix: "dir1/sum.txt")).items == [.key("dir1/sum.txt")])
    }

    @Test func anyDelimiterRollsKeysUpAtItsFirstOccurrenceAfterThePrefix() throws {
        let t = TempTree()
        for k in ["a-b/c", "a-c", "b", "x/y-z/w", "x/y-q", "x/y"] { t.file(k) }
        #expect(try lister(t).list(query(delimiter: "-")).items == [.prefix("a-"), .key("b"), .key("x/y"), .prefix("x/y-")])
        #expect(try lister(t).list(query(prefix: "x/", delimiter: "y-")).items == [.key("x/y"), .prefix("x/y-")])
        #expect(try lister(t).list(query(delimiter: "/y")).items.map(\.description)
            == ["K:a-b/c", "K:a-c", "K:b", "P:x/y"])
    }

    @Test func commonPrefixesCountTowardMaxKeysAndPageWithKeys() throws {
        let t = TempTree()
        for k in ["a/1", "b", "c/1", "c/2", "d", "e/1"] { t.file(k) }
        let l = lister(t)
        var q = query(delimiter: "/", maxKeys: 2)
        let p1 = try l.list(q)
        #expect(p1.items == [.prefix("a/"), .key("b")] && p1.isTruncated)
        q.continuationToken = p1.nextContinuationToken
        let p2 = try l.list(q)
        #expect(p2.items == [.prefix("c/"), .key("d")] && p2.isTruncated)
        q.continuationToken = p2.nextContinuationToken
        let p3 = try l.list(q)
        #expect(p3.items == [.prefix("e/")] && !p3.isTruncated && p3.nextContinuationToken == nil)
    }

    @Test func aListThatFitsExactlyIsNotTruncated() throws {
        let t = TempTree()
        for k in ["a", "b"] { t.file(k) }
        let page = try lister(t).list(query(maxKeys: 2))
        #expect(page.items.count == 2 && !page.isTruncated && page.nextContinuationToken == nil)
    }

    @Test func maxKeysZeroIsEmptyAndNotTruncatedButTokensAreStillChecked() throws {
        let t = TempTree()
        t.file("a")
        let page = try lister(t).list(query(maxKeys: 0))
        #expect(page.items.isEmpty && !page.isTruncated)
        var q = query(maxKeys: 0)
        q.continuationToken = "bogus"
        #expect(throws: ContinuationToken.incorrect) { try lister(t).list(q) }
    }

    @Test func startAfterAndMarkerMeanStrictlyAfter() throws {
        let t = TempTree()
        for k in ["a", "b", "b0", "c/d"] { t.file(k) }
        var q = query()
        q.startAfter = "b"
        #expect(keys(try lister(t).list(q)) == ["b0", "c/d"])
        var v1 = query(.v1)
        v1.marker = "b0"
        #expect(keys(try lister(t).list(v1)) == ["c/d"])
        q.startAfter = "bz"
        #expect(keys(try lister(t).list(q)) == ["c/d"])
    }

    @Test func aCommonPrefixAtOrBeforeThePositionIsNotRepeated() throws {
        let t = TempTree()
        for k in ["boo/bar", "boo/baz/xyzzy", "cquux/bla", "asdf"] { t.file(k) }
        var v1 = query(.v1, delimiter: "/")
        v1.marker = "boo/"
        #expect(try lister(t).list(v1).items == [.prefix("cquux/")])
        v1.marker = "boo/bar"
        #expect(try lister(t).list(v1).items == [.prefix("cquux/")])
        v1.marker = "boo"
        #expect(try lister(t).list(v1).items == [.prefix("boo/"), .prefix("cquux/")])
    }

    @Test func v1GivesNextMarkerOnlyWithADelimiter() throws {
        let t = TempTree()
        for k in ["a/1", "b", "c"] { t.file(k) }
        let withDelimiter = try lister(t).list(query(.v1, delimiter: "/", maxKeys: 1))
        #expect(withDelimiter.isTruncated && withDelimiter.nextMarker == "a/" && withDelimiter.nextContinuationToken == nil)
        let without = try lister(t).list(query(.v1, maxKeys: 1))
        #expect(without.isTruncated && without.nextMarker == nil)
    }

    @Test func tokensFromAnotherBucketPrefixOrDelimiterAreRefused() throws {
        let t = TempTree()
        for k in ["a/1", "a/2", "a/3"] { t.file(k) }
        let page = try lister(t).list(query(prefix: "a/", maxKeys: 1))
        let token = try #require(page.nextContinuationToken)
        var q = query(prefix: "a/", maxKeys: 1)
        q.continuationToken = token
        #expect(keys(try lister(t).list(q)) == ["a/2"])
        #expect(keys(try lister(t, bucket: "BUCKET").list(q)) == ["a/2"])
        #expect(throws: ContinuationToken.incorrect) { try lister(t, bucket: "other").list(q) }
        var other = q
        other.prefix = "a"
        #expect(throws: ContinuationToken.incorrect) { try lister(t).list(other) }
        other = q
        other.delimiter = "/"
        #expect(throws: ContinuationToken.incorrect) { try lister(t).list(other) }
        for bad in ["", "a/1", token + "x", String(token.dropLast())] {
            other = q
            other.continuationToken = bad
            #expect(throws: ContinuationToken.incorrect) { try lister(t).list(other) }
        }
    }

    @Test func theTokenWinsOverStartAfter() throws {
        let t = TempTree()
        for k in ["a", "b", "c"] { t.file(k) }
        var q = query(maxKeys: 1)
        q.startAfter = "b"
        let first = try lister(t).list(query(maxKeys: 1))
        q.continuationToken = first.nextContinuationToken
        #expect(keys(try lister(t).list(q)) == ["b"])
    }

    @Test func emptyDirectoriesProduceNothing() throws {
        let t = TempTree()
        t.dir("empty").dir("deep/er/est").dir("x/empty")
        t.file("x/f")
        #expect(keys(try lister(t).list(query())) == ["x/f"])
        #expect(try lister(t).list(query(delimiter: "/")).items == [.prefix("x/")])
        #expect(try lister(t).list(query(prefix: "x/", delimiter: "/")).items == [.key("x/f")])
        #expect(try lister(t).list(query(prefix: "empty/")).items.isEmpty)
    }

    @Test func dotfilesAreListed() throws {
        let t = TempTree()
        t.file(".hidden").file(".git/config")
        #expect(keys(try lister(t).list(query())) == [".git/config", ".hidden"])
    }

    @Test func sizesAndTimesComeFromTheFileAndTheETagFunctionSeesThem() throws {
        let t = TempTree()
        t.file("f", size: 5, mtime: 1_600_000_000)
        let o = try #require(try lister(t).list(query()).objects.first)
        #expect(o.size == 5 && o.lastModified.seconds == 1_600_000_000 && o.etag == "\"5-1600000000\"" && o.storageClass == "STANDARD")
    }

    @Test func symlinksInsideAreFollowedAndTheRestSkipped() throws {
        let t = TempTree()
        let outside = TempTree()
        outside.file("secret", size: 9).file("dir/s")
        t.file("real/target.txt", size: 7)
        t.symlink("link-file", to: "real/target.txt")
        t.symlink("link-dir", to: "real")
        t.symlink("real/up", to: "../real/target.txt")
        t.symlink("broken", to: "nowhere")
        t.symlink("escape-rel", to: "../\(outside.path.split(separator: "/").last!)/secret")
        t.symlink("escape-abs", to: outside.path + "/secret")
        t.symlink("escape-dir", to: outside.path + "/dir")
        t.symlink("absolute-inside", to: t.path + "/real/target.txt")
        t.symlink("loop-self", to: ".")
        t.symlink("real/loop-parent", to: "..")
        t.symlink("chain", to: "chain")
        let page = try lister(t).list(query())
        #expect(keys(page) == ["link-dir/target.txt", "link-dir/up", "link-file", "real/target.txt", "real/up"])
        #expect(page.objects.allSatisfy { $0.size == 7 })
        #expect(try lister(t).list(query(delimiter: "/")).items
            == [.prefix("link-dir/"), .key("link-file"), .prefix("real/")])
        #expect(keys(try lister(t).list(query(prefix: "link-dir/"))) == ["link-dir/target.txt", "link-dir/up"])
        #expect(try lister(t).list(query(prefix: "loop-self/")).items.isEmpty)
    }

    @Test func specialFilesAndNonUTF8NamesAreSkipped() throws {
        let t = TempTree()
        t.fifo("pipe")
        t.fileBytes([0x62, 0xFF, 0x2E, 0x74])
        t.fileBytes(Array("d/".utf8) + [0xC3, 0x28])
        t.dir("bad").fileBytes(Array("bad/".utf8) + [0xE2, 0x82] + Array("/inner".utf8))
        t.file("ok")
        t.file("d/fine")
        #expect(keys(try lister(t).list(query())) == ["d/fine", "ok"])
        #expect(try lister(t).list(query(delimiter: "/")).items == [.prefix("d/"), .key("ok")])
    }

    @Test(.enabled(if: getuid() != 0, "root reads everything"))
    func unreadableFilesAndDirectoriesAreSkipped() throws {
        let t = TempTree()
        t.file("open/a").file("shut/b").file("secret").file("z")
        t.chmod("shut", 0o000)
        t.chmod("secret", 0o000)
        #expect(keys(try lister(t).list(query())) == ["open/a", "z"])
        #expect(try lister(t).list(query(delimiter: "/")).items == [.prefix("open/"), .key("z")])
    }

    /// Readability comes from the mode bits only when they grant it; otherwise the kernel is
    /// asked, and root (CAP_DAC_OVERRIDE) reads what no bit allows.
    @Test(.enabled(if: getuid() == 0, "needs root's capabilities"))
    func filesNoModeBitAllowsAreListedForAProcessThatCanReadThem() throws {
        let t = TempTree()
        t.file("none").file("group-only").file("plain")
        t.chmod("none", 0o000)
        t.chmod("group-only", 0o040)
        t.chown("group-only", 4242, 4242)
        #expect(keys(try lister(t).list(query())) == ["group-only", "none", "plain"])
    }

    @Test(arguments: ["../", "..", "./", "/", "/etc/", "a//", "a/../", "a/./b", "\u{0}"])
    func prefixesNoKeyCouldStartWithFindNothing(prefix: String) throws {
        let t = TempTree()
        t.file("a/b").file("c")
        #expect(try lister(t).list(query(prefix: prefix)).items.isEmpty)
    }

    @Test func hostileNamesAreListedVerbatim() throws {
        let t = TempTree()
        let names = ["q#?&<b>.txt", "a b", "a+b", "100%", "caf\u{E9}", "\u{1F600}", "x\ty", "'\"", "=@,;"]
        for n in names { t.file("h/" + n) }
        let expected = names.map { "h/" + $0 }.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        #expect(keys(try lister(t).list(query(prefix: "h/"))) == expected)
    }

    @Test func aWarmCacheIsReusedAndAChangedDirectoryIsReread() throws {
        let t = TempTree()
        for i in 0..<50 { t.file("d/f\(i)") }
        let cache = SortedNameCache(racyWindowSeconds: -10)
        let l = lister(t, cache: cache)
        _ = try l.list(query())
        let loads = cache.loads
        #expect(loads == 2)
        _ = try l.list(query(maxKeys: 3))
        #expect(cache.loads == loads)
        t.file("d/new")
        #expect(keys(try l.list(query(prefix: "d/n"))) == ["d/new"])
        #expect(cache.loads == loads + 1)
    }

    @Test func aFreshlyModifiedDirectoryIsNotCached() throws {
        let t = TempTree()
        t.file("a")
        let cache = SortedNameCache()
        _ = try lister(t, cache: cache).list(query())
        _ = try lister(t, cache: cache).list(query())
        #expect(cache.loads == 2)
    }

    @Test func aFileDeletedAfterCachingIsSkippedNotAnError() throws {
        let t = TempTree()
        t.file("a").file("b")
        let cache = SortedNameCache(racyWindowSeconds: -10)
        let l = lister(t, cache: cache)
        _ = try l.list(query())
        _ = "\(t.path)/a".withCString { unlink($0) }
        // The directory's mtime changed, so it is re-read; and even a stale entry would be skipped.
        #expect(keys(try l.list(query())) == ["b"])
    }
}

extension FileListerTests {
    @Test func aNULInThePrefixNeverOpensTheDirectoryBeforeIt() throws {
        let t = TempTree()
        t.file("a/b")
        #expect(try lister(t).list(query(prefix: "a\u{0}/")).items.isEmpty)
        #expect(try lister(t).list(query(prefix: "a\u{0}/b")).items.isEmpty)
    }
}
