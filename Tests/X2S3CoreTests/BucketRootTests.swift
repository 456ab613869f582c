import Glibc
import Posix
@testable import S3Protocol
@testable import Storage
import Testing
@testable import X2S3Core

@Suite struct RootCheckTests {
    @Test func dueAfterTheIntervalOrAMiss() {
        #expect(!RootCheck.isDue(lastCheck: 5000, now: 5000, miss: false))
        #expect(!RootCheck.isDue(lastCheck: 5000, now: 5999, miss: false))
        #expect(RootCheck.isDue(lastCheck: 5000, now: 6000, miss: false))
        #expect(RootCheck.isDue(lastCheck: 5000, now: 5001, miss: true))
        #expect(RootCheck.isDue(lastCheck: 5000, now: 4000, miss: false), "a clock going back must not stop checks")
    }

    @Test func replacedOnlyWhenThePathNamesAnotherDirectory() {
        let open = RootCheck.Identity(device: 1, inode: 10)
        #expect(!RootCheck.isReplaced(open: open, path: RootCheck.Identity(device: 1, inode: 10)))
        #expect(RootCheck.isReplaced(open: open, path: RootCheck.Identity(device: 1, inode: 11)))
        #expect(RootCheck.isReplaced(open: open, path: RootCheck.Identity(device: 2, inode: 10)), "a remount")
        #expect(!RootCheck.isReplaced(open: open, path: nil), "gone mid-publish: keep what is open")
    }
}

/// A bucket root replaced on disk, with a clock the test moves.
@Suite struct BucketRootTests {
    let tree = TempTree()

    private func make(_ rel: String, file: String) {
        _ = mkdir(tree.path + "/" + rel, 0o755)
        let f = fopen(tree.path + "/" + rel + "/" + file, "w")!
        fclose(f)
    }

    private func has(_ root: FileDescriptor, _ name: String) -> Bool { (try? root.openBeneath(name)) != nil }

    @Test func followsARenamedInDirectoryAfterTheIntervalOrAMiss() throws {
        make("ds", file: "old")
        let path = tree.path + "/ds"
        var now: Int64 = 0
        let root = try BucketRoot(configuredPath: path, realPath: path, clock: { now })
        make("ds.new", file: "new")
        #expect(rename(path, tree.path + "/ds.old") == 0 && rename(tree.path + "/ds.new", path) == 0)
        now = 999
        #expect(has(root.current, "old"), "within the interval the open root is served")
        now = 1000
        #expect(has(root.current, "new") && !has(root.current, "old"))
        #expect(!root.revalidateAfterMiss(), "unchanged: nothing to retry")

        _ = system("rm -rf '\(path)'")
        #expect(!root.revalidateAfterMiss(), "gone: the open root stays")
        make("ds", file: "third")
        #expect(root.revalidateAfterMiss(), "a miss re-checks at once")
        #expect(has(root.current, "third"))
    }

    @Test func followsARepointedSymlinkAndReResolvesItsRealPath() throws {
        make("v1", file: "a")
        make("v2", file: "b")
        #expect(symlink("v1", tree.path + "/current") == 0)
        let link = tree.path + "/current"
        let real = try PathLookup.realPath(link)
        var now: Int64 = 0
        let root = try BucketRoot(configuredPath: link, realPath: real, clock: { now })
        #expect(root.realPath.hasSuffix("/v1"))
        _ = system("ln -sfn v2 '\(link)'")
        now = 2000
        #expect(has(root.current, "b"))
        #expect(root.realPath == (try PathLookup.realPath(tree.path + "/v2")))
    }
}

/// A FileBackend notices a replaced root at the first miss, without waiting for the interval.
@Suite struct FileBackendRootTests {
    let tree = TempTree()

    @Test func aMissLooksAtTheNewRootAtOnce() throws {
        _ = tree.file("ds/old.txt", size: 3)
        let backend = try FileBackend(bucket: "b", options: FileOptions(path: tree.path + "/ds"))
        #expect(try backend.head("old.txt").size == 3)
        _ = tree.file("ds.new/new.txt", size: 5)
        #expect(rename(tree.path + "/ds", tree.path + "/ds.old") == 0 && rename(tree.path + "/ds.new", tree.path + "/ds") == 0)
        #expect(try backend.head("new.txt").size == 5)
        #expect(throws: S3Error.noSuchKey(key: "old.txt")) { try backend.head("old.txt") }

        _ = system("rm -rf '\(tree.path)/ds' && mkdir -p '\(tree.path)/ds/sub' && echo x > '\(tree.path)/ds/sub/third'")
        var q = ListQuery(version: .v2)
        q.prefix = "sub/"
        #expect(try backend.list(q).objects.map(\.key) == ["sub/third"], "an empty listing is a miss too")
    }
}
