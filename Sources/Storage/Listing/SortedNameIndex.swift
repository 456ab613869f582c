import Posix

/// Sorted directory images shared by every worker through files: the first worker to sort a
/// huge directory writes its image here, and every other worker (including ones spawned
/// later, or after a restart) maps it read-only instead of sorting again. The page cache
/// holds one copy for the whole pool.
///
/// One file per (bucket root, directory, mtime), named after them; its header repeats the
/// key and the lengths, and a file whose header does not match, or whose length does not add
/// up, is ignored (the directory is sorted again and the file replaced). Files are written
/// under a temporary name and renamed into place, so a reader sees a whole file or none, and
/// never waits: a worker that finds no file sorts the directory itself, even while another is
/// writing the same one. A file holding symlinks is trusted for `linkedMaxAge` seconds only,
/// since a link's target can change kind without touching the directory's mtime.
///
/// The directory must belong to this process's user and not be writable by others (anyone
/// who can write here chooses which names listings consider). Its total size is kept under
/// `diskBudget` by removing the oldest files when a new one is written; files for an older
/// mtime of the same directory go at once.
final class SortedNameIndex {
    let path: String
    private let directory: FileDescriptor
    private let diskBudget: Int
    private let linkedMaxAge: Int64
    private var writes = 0

    /// Opens (creating it, mode 0700, if needed) the index directory at `path`; nil when it
    /// cannot be made or is not safely ours.
    init?(path: String, diskBudget: Int, linkedMaxAge: Int64 = 60) {
        guard diskBudget > 0, (try? FileDescriptor.makeDirectories(path, mode: 0o700)) != nil,
              let fd = try? FileDescriptor.openDirectory(path), let st = try? fd.stat(),
              st.kind == .directory, st.owner == CurrentProcess.effectiveUser, st.permissions & 0o022 == 0
        else { return nil }
        self.path = path
        directory = fd
        self.diskBudget = diskBudget
        self.linkedMaxAge = linkedMaxAge
    }

    /// The file name for `key`: root, directory and mtime, so a changed directory (new mtime)
    /// never meets an old file.
    static func fileName(_ key: SortedNameCache.Key) -> String {
        "\(stem(key))\(key.mtimeSeconds).\(key.mtimeNanoseconds).names"
    }

    /// What every file for the same directory under the same root starts with.
    private static func stem(_ key: SortedNameCache.Key) -> String {
        "\(key.rootDevice).\(key.rootInode)-\(key.device).\(key.inode)-"
    }

    /// The shared image for `key`, if a valid one exists.
    func open(_ key: SortedNameCache.Key, now: Int64) -> SortedDirectory? {
        guard let fd = try? directory.openReadOnly(at: Self.fileName(key)), let st = try? fd.stat(),
              st.kind == .regular, st.size >= UInt64(SortedDirectory.headerSize), st.size <= UInt64(Int.max),
              let mapping = try? MappedFile(fd, length: Int(st.size)),
              let dir = SortedDirectory(mapping: mapping, expecting: key)
        else { return nil }
        if dir.hasLinks && now - dir.createdAt > linkedMaxAge { return nil }
        return dir
    }

    /// Writes the sorted image of `entries` as the shared file for `key` and returns it
    /// mapped from there, or nil when it cannot be written or is larger than the whole budget.
    func store(_ entries: SortedDirectoryBuilder, order: [UInt32], key: SortedNameCache.Key, now: Int64) -> SortedDirectory? {
        guard entries.imageSize <= diskBudget else { return nil }
        let name = Self.fileName(key)
        writes += 1
        let temporary = ".tmp-\(CurrentProcess.id)-\(writes)-\(name)"
        do {
            let fd = try directory.createExclusive(at: temporary, mode: 0o600)
            try entries.emit(order: order, key: key, now: now) { (piece) throws(Errno) in try fd.writeAll(piece) }
            try directory.rename(temporary, to: name)
        } catch {
            try? directory.remove(temporary)
            return nil
        }
        prune(keeping: name, stem: Self.stem(key), now: now)
        return open(key, now: now)
    }

    /// Removes files for other mtimes of the same directory, temporary files a crashed writer
    /// left (older than ten minutes), and then the oldest files until the rest fit the budget.
    private func prune(keeping kept: String, stem: String, now: Int64) {
        var files: [(name: String, size: Int, mtime: Int64)] = []
        try? directory.forEachEntry { entry in
            let name = String(decoding: entry.name, as: UTF8.self)
            guard name != kept, let st = try? directory.stat(at: name, follow: false), st.kind == .regular else { return true }
            if name.hasPrefix(".tmp-") {
                if now - st.mtimeSeconds > 600 { try? directory.remove(name) }
            } else if name.hasPrefix(stem) {
                try? directory.remove(name)
            } else if name.hasSuffix(".names") {
                files.append((name, Int(clamping: st.size), st.mtimeSeconds))
            }
            return true
        }
        let keptSize = (try? directory.stat(at: kept, follow: false)).map { Int(clamping: $0.size) } ?? 0
        var total = files.reduce(keptSize) { $0 + $1.size }
        for file in files.sorted(by: { $0.mtime < $1.mtime }) where total > diskBudget {
            try? directory.remove(file.name)
            total -= file.size
        }
    }
}
