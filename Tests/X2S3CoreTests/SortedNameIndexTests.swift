import Glibc
import Posix
@testable import S3Protocol
@testable import Storage
import Testing
@testable import X2S3Core

/// The file-backed sorted-name index shared by workers: round trips, damaged and stale files,
/// the disk budget, and listings through it equal to the in-memory path's.
@Suite struct SortedNameIndexTests {
    /// A bucket tree plus a separate scratch directory holding the index.
    let tree = TempTree()
    let scratch = TempTree()
    var indexPath: String { scratch.path + "/index" }

    /// A worker's cache over the shared index; `minEntries` 1 sends every directory there.
    func cache(minEntries: Int = 1, diskBudget: Int = 1 << 30, now: (() -> Int64)? = nil) -> SortedNameCache {
        SortedNameCache(racyWindowSeconds: -10, now: now,
                        index: SortedNameIndex(path: indexPath, diskBudget: diskBudget), indexMinEntries: minEntries)
    }

    func lister(_ cache: SortedNameCache) -> FileLister {
        FileLister(root: tree.root(), bucket: "bucket", cache: cache) { _, _ in "\"e\"" }
    }

    func query(prefix: String = "", delimiter: String? = nil, maxKeys: Int = 1000) -> ListQuery {
        var q = ListQuery(version: .v2)
        q.prefix = prefix
        q.delimiter = delimiter
        q.maxKeys = maxKeys
        return q
    }

    /// Names in the index directory (temporary files included).
    func indexFiles() -> [String] {
        var names: [String] = []
        guard let d = opendir(indexPath) else { return [] }
        defer { closedir(d) }
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    func lstatOf(_ path: String) -> stat {
        var st = stat()
        _ = lstat(path, &st)
        return st
    }

    func fill(_ n: Int, under dir: String = "d/") {
        for i in 0..<n { tree.file("\(dir)f\(i * 7 % n)", size: i % 3) }
        tree.dir(dir + "sub").file(dir + "sub/x").file(dir + "f-").file(dir + "sub-")
    }

    @Test func aSecondWorkerMapsTheFirstWorkersIndexInsteadOfSorting() throws {
        fill(300)
        let memory = lister(SortedNameCache(racyWindowSeconds: -10))
        let first = cache()
        let expected = try memory.listAll(query()).items
        #expect(try lister(first).listAll(query()).items == expected)
        #expect(first.loads == 3)
        let files = indexFiles()
        #expect(files.count == 3)
        #expect(files.allSatisfy { $0.hasSuffix(".names") })
        let before = files.map { lstatOf(indexPath + "/" + $0) }

        let second = cache()
        #expect(try lister(second).listAll(query(maxKeys: 7)).items == memory.listAll(query(maxKeys: 7)).items)
        #expect(try lister(second).listAll(query(delimiter: "/", maxKeys: 2)).items == memory.listAll(query(delimiter: "/", maxKeys: 2)).items)
        #expect(second.loads == 0)
        #expect(second.indexHits == 3)
        let after = files.map { lstatOf(indexPath + "/" + $0) }
        #expect(zip(before, after).allSatisfy { $0.st_ino == $1.st_ino && $0.st_mtim.tv_nsec == $1.st_mtim.tv_nsec })
        #expect(indexFiles() == files)
    }

    @Test func smallDirectoriesStayInMemory() throws {
        fill(20)
        let c = cache(minEntries: 100)
        _ = try lister(c).list(query())
        #expect(indexFiles().isEmpty)
    }

    @Test(arguments: ["truncated", "header", "key", "empty", "offsets"])
    func aDamagedIndexIsIgnoredAndReplaced(damage: String) throws {
        fill(200)
        let expected = try lister(SortedNameCache(racyWindowSeconds: -10)).listAll(query(prefix: "d/")).items
        _ = try lister(cache()).listAll(query(prefix: "d/"))
        let name = try #require(indexFiles().first { lstatOf(indexPath + "/" + $0).st_size > 1000 })
        let path = indexPath + "/" + name
        let size = Int(lstatOf(path).st_size)
        let fd = open(path, O_RDWR)
        switch damage {
        case "truncated": ftruncate(fd, off_t(size - 1))
        case "header": _ = pwrite(fd, "garbage!", 8, 0)
        case "key": _ = pwrite(fd, "\u{7}", 1, 40)  // the inode
        case "empty": ftruncate(fd, 0)
        default:
            // Offsets out of range and out of order: reads stay inside the file.
            var junk = [UInt8](repeating: 0xFF, count: 64)
            _ = pwrite(fd, &junk, 64, off_t(SortedDirectory.headerSize + 16))
        }
        close(fd)
        let c = cache()
        let listed = try lister(c).listAll(query(prefix: "d/")).items
        if damage == "offsets" {
            // Undetected by the header: some names are misread, but every listed key is real.
            #expect(listed.allSatisfy { expected.contains($0) })
            return
        }
        #expect(listed == expected)
        #expect(c.loads >= 1)
        #expect(Int(lstatOf(path).st_size) == size)
        let again = cache()
        #expect(try lister(again).listAll(query(prefix: "d/")).items == expected)
        #expect(again.loads == 0)
    }

    @Test func aChangedDirectoryGetsANewIndexAndTheOldOneIsRemoved() throws {
        fill(100)
        _ = try lister(cache()).listAll(query(prefix: "d/"))
        let stemOf = { (name: String) in name.split(separator: "-").prefix(2).joined(separator: "-") }
        let before = indexFiles()
        tree.file("d/new")
        let c = cache()
        #expect(try keys(lister(c).list(query(prefix: "d/n")).items) == ["d/new"])
        #expect(c.loads == 1)
        let after = indexFiles()
        #expect(after.count == before.count)
        #expect(Set(after.map(stemOf)) == Set(before.map(stemOf)))
        #expect(Set(after) != Set(before))
    }

    @Test func theDiskBudgetDropsTheOldestFiles() throws {
        for d in 0..<4 { fill(400, under: "d\(d)/") }
        // Room for about two of the four big directories' files.
        let c = cache(minEntries: 100, diskBudget: 2 * (96 + 5 * 404 + 4 + 404 * 5))
        for d in 0..<4 { _ = try lister(c).list(query(prefix: "d\(d)/")) }
        let files = indexFiles()
        #expect(files.count == 2)
        let total = files.reduce(0) { $0 + Int(lstatOf(indexPath + "/" + $1).st_size) }
        #expect(total <= 2 * (96 + 5 * 404 + 4 + 404 * 5))
    }

    @Test func anIndexWithSymlinksExpires() throws {
        fill(50)
        tree.symlink("d/link", to: "f1")
        var clock: Int64 = WallClock.now()
        _ = try lister(cache(now: { clock })).list(query(prefix: "d/"))
        let fresh = cache(now: { clock })
        #expect(try keys(lister(fresh).list(query(prefix: "d/l")).items) == ["d/link"])
        #expect(fresh.loads == 0)
        clock += 3600
        let late = cache(now: { clock })
        _ = try lister(late).list(query(prefix: "d/"))
        #expect(late.loads == 1)
    }

    @Test func anIndexDirectoryOthersCanWriteIsRefused() {
        _ = mkdir(indexPath, 0o777)
        _ = chmod(indexPath, 0o777)
        #expect(SortedNameIndex(path: indexPath, diskBudget: 1 << 20) == nil)
        _ = chmod(indexPath, 0o700)
        #expect(SortedNameIndex(path: indexPath, diskBudget: 1 << 20) != nil)
    }

    func keys(_ items: [ListItem]) -> [String] {
        items.compactMap { if case .key(let k) = $0 { return k } else { return nil } }
    }
}
