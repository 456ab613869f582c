import Posix

/// A depth-first walk over a bucket directory tree in S3 key order (UTF-8 bytes of the whole
/// key: each directory's entries sorted by name, a subdirectory `d` as `d/`), that can jump
/// forward to any key without walking what lies before it.
///
/// The walk holds one frame per directory on the current path (its descriptor and sorted
/// names), never more: memory follows depth, not tree size. A `seek` pops the frames the target
/// is not under and binary-searches down the rest, so resuming a listing costs
/// O(depth × log(entries)) plus the directories it has to open.
///
/// Directories are yielded before they are entered, so the caller can roll a whole subtree up
/// into a common prefix (or skip it) without reading it. Loops through directory symlinks are
/// cut by refusing to enter any directory whose (device, inode) is already on the path.
final class DirectoryCursor {
    /// Where a `seek` lands: at the first key ≥, or >, the target, or past every key that
    /// starts with the target.
    enum Bound {
        case atOrAfter([UInt8])
        case after([UInt8])
        case pastPrefix([UInt8])
    }

    /// One step of the walk.
    enum Step {
        case end
        /// A file entry (not yet checked to be readable): its key.
        case file([UInt8])
        /// A directory entry, not entered: its key prefix, ending in `/`.
        case directory([UInt8])
    }

    /// A directory's identity, for loop detection and the cache key.
    struct Identity: Equatable {
        var device: UInt64, inode: UInt64
    }

    /// One directory on the current path.
    private struct Frame {
        let fd: FileDescriptor
        /// The key prefix of everything under this directory: "" or "a/b/".
        let path: [UInt8]
        let dir: SortedDirectory
        let identity: Identity
        /// The next entry `next()` will look at.
        var index: Int
    }

    private let root: FileDescriptor
    private let rootIdentity: Identity
    private let cache: SortedNameCache
    /// The root and the directories between it and the base frame.
    private var ancestors: [Identity] = []
    private var stack: [Frame] = []
    /// The entry the last `next()` returned: (frame index, entry index).
    private var current: (frame: Int, entry: Int)?
    /// Per device met in this walk: whether its file system enforces exactly its mode bits.
    private var modeBitsTrusted: [UInt64: Bool] = [:]

    /// A cursor over the directory `basePath` ("" for the root, else "a/b/"), positioned before
    /// its first entry; nil when that path does not name a directory a listing could reach
    /// (missing, not a directory, unreadable, outside the root, a loop, or spelled with
    /// `.`/`..`/empty segments or a NUL byte, which no key contains — and a NUL would cut the
    /// C path short and open the wrong directory).
    init?(root: FileDescriptor, cache: SortedNameCache, basePath: [UInt8]) {
        self.root = root
        self.cache = cache
        guard let rootStat = try? root.stat() else { return nil }
        rootIdentity = Identity(device: rootStat.device, inode: rootStat.inode)
        var fd = root
        var stat = rootStat
        if !basePath.isEmpty {
            let segments = basePath.dropLast().split(separator: 0x2F, omittingEmptySubsequences: false)
            for segment in segments where segment.isEmpty || segment == [0x2E] || segment == [0x2E, 0x2E] || segment.contains(0) {
                return nil
            }
            ancestors.append(rootIdentity)
            var walked: [UInt8] = []
            for (n, segment) in segments.enumerated() {
                walked += segment
                guard let next = try? root.openBeneath(String(decoding: walked, as: UTF8.self), directory: true),
                      let nextStat = try? next.stat(), nextStat.kind == .directory
                else { return nil }
                let id = Identity(device: nextStat.device, inode: nextStat.inode)
                if ancestors.contains(id) { return nil }
                if n < segments.count - 1 { ancestors.append(id) }
                walked.append(0x2F)
                fd = next
                stat = nextStat
            }
        }
        guard let frame = makeFrame(fd: fd, stat: stat, path: basePath) else { return nil }
        stack = [frame]
    }

    // MARK: walking

    /// The next entry in key order (directories are not entered: call `descend`).
    func next() -> Step {
        while let top = stack.last {
            let i = top.index
            if i >= top.dir.count {
                stack.removeLast()
                continue
            }
            stack[stack.count - 1].index = i + 1
            current = (stack.count - 1, i)
            let key = top.path + top.dir.name(i)
            return top.dir.kind(i).isDirectory ? .directory(key + [0x2F]) : .file(key)
        }
        current = nil
        return .end
    }

    /// Enters the directory the last `next()` returned. One that cannot be opened, or that is
    /// already on the path (a symlink loop), is skipped as if it were empty.
    func descend() {
        guard let (f, i) = current, f == stack.count - 1, stack[f].dir.kind(i).isDirectory else { return }
        current = nil
        if let child = openChild(stack[f], i) { stack.append(child) }
    }

    /// Metadata of the file the last `next()` returned: nil when it vanished, became something
    /// other than a regular file, or cannot be read — all of which a listing skips.
    func statCurrentFile() -> FileStat? {
        guard let (f, i) = current, f < stack.count else { return nil }
        let frame = stack[f]
        return statFile(frame.dir.name(i), kind: frame.dir.kind(i), in: frame.fd, device: frame.identity.device, path: frame.path)
    }

    /// Whether the directory the last `next()` returned holds at least one listable file,
    /// at any depth. Stops at the first one; S3 has no empty prefixes, so an empty subtree
    /// must not become a CommonPrefix.
    func currentDirectoryHasKey() -> Bool {
        guard let (f, i) = current, f < stack.count else { return false }
        let frame = stack[f]
        guard let fd = openChildDescriptor(frame, i), let st = try? fd.stat(), st.kind == .directory else { return false }
        let id = Identity(device: st.device, inode: st.inode)
        var chain = ancestors + stack[0...f].map(\.identity)
        if chain.contains(id) { return false }
        chain.append(id)
        return hasKey(fd: fd, path: frame.path + frame.dir.name(i) + [0x2F], chain: chain)
    }

    /// Moves forward to `bound` (never backward: callers only seek past what they have seen).
    func seek(_ bound: Bound) {
        current = nil
        let target: [UInt8]
        switch bound {
        case .atOrAfter(let t), .after(let t), .pastPrefix(let t): target = t
        }
        while let top = stack.last, !target.starts(with: top.path) { stack.removeLast() }
        while let top = stack.last {
            let f = stack.count - 1
            let rest = target[top.path.count...]
            let j = top.dir.search(rest)
            // The target lies inside the directory just before it: enter and go on there.
            if j > 0, top.dir.kind(j - 1).isDirectory, top.dir.isProperPrefix(entry: j - 1, of: rest) {
                stack[f].index = j
                guard let child = openChild(top, j - 1) else { return }
                stack.append(child)
                continue
            }
            var i = j
            switch bound {
            case .atOrAfter: break
            case .after:
                if i < top.dir.count, !top.dir.kind(i).isDirectory, top.dir.compare(entry: i, to: rest) == 0 { i += 1 }
            case .pastPrefix:
                i = top.dir.search(rest, upperPastPrefix: true)
            }
            stack[f].index = i
            return
        }
    }

    // MARK: opening

    private func makeFrame(fd: FileDescriptor, stat: FileStat, path: [UInt8]) -> Frame? {
        let id = Identity(device: stat.device, inode: stat.inode)
        let key = SortedNameCache.Key(rootDevice: rootIdentity.device, rootInode: rootIdentity.inode,
                                      device: stat.device, inode: stat.inode,
                                      mtimeSeconds: stat.mtimeSeconds, mtimeNanoseconds: stat.mtimeNanoseconds)
        guard let dir = try? cache.directory(key, load: { () throws(Errno) -> SortedDirectoryBuilder in try load(fd, path: path) })
        else { return nil }
        return Frame(fd: fd, path: path, dir: dir, identity: id, index: 0)
    }

    private func openChildDescriptor(_ frame: Frame, _ i: Int) -> FileDescriptor? {
        let name = frame.dir.name(i)
        if frame.dir.kind(i) == .directory {
            return try? frame.fd.openBeneath(String(decoding: name, as: UTF8.self), directory: true)
        }
        // A link may point anywhere beneath the root, so it resolves from there.
        return try? root.openBeneath(String(decoding: frame.path + name, as: UTF8.self), directory: true)
    }

    private func openChild(_ frame: Frame, _ i: Int) -> Frame? {
        guard let fd = openChildDescriptor(frame, i), let st = try? fd.stat(), st.kind == .directory else { return nil }
        let id = Identity(device: st.device, inode: st.inode)
        if ancestors.contains(id) || stack.contains(where: { $0.identity == id }) { return nil }
        return makeFrame(fd: fd, stat: st, path: frame.path + frame.dir.name(i) + [0x2F])
    }

    /// A listable file's metadata: a regular file this process can read. A plain entry is
    /// looked at in its own directory (already opened beneath the root, on `device`) without
    /// following it, so nothing outside can be reached and no descriptor is opened: one
    /// fstatat on a local file system whose mode bits grant read, else fstatat + faccessat,
    /// instead of openat2 + fstat + close, the bulk of a listing page's cost. A link, or an
    /// entry that became one since the directory was read, resolves from the root as a GET would.
    private func statFile(_ name: some Collection<UInt8>, kind: ListEntryKind, in dir: FileDescriptor, device: UInt64,
                          path: [UInt8]) -> FileStat? {
        if kind == .file {
            let text = String(decoding: name, as: UTF8.self)
            guard let st = try? dir.stat(at: text, follow: false) else { return nil }
            if st.kind == .regular {
                // A file mounted over the entry lives on another file system: ask the kernel.
                let trusted = st.device == device && trustsModeBits(of: dir, device: device)
                return dir.isReadable(at: text, stat: st, trustingModeBits: trusted) ? st : nil
            }
            if st.kind != .symlink { return nil }
        } else if kind != .linkedFile {
            return nil
        }
        guard let fd = try? root.openBeneath(String(decoding: path + name, as: UTF8.self)),
              let st = try? fd.stat(), st.kind == .regular else { return nil }
        return st
    }

    private func trustsModeBits(of dir: FileDescriptor, device: UInt64) -> Bool {
        if let known = modeBitsTrusted[device] { return known }
        let trusted = dir.modeBitsAreAuthoritative()
        modeBitsTrusted[device] = trusted
        return trusted
    }

    // MARK: reading directories

    /// What a listing makes of one raw entry: nil for names that are not UTF-8, special files,
    /// and symlinks that are broken, loop, or resolve outside the root.
    private func classify(_ entry: DirectoryEntry, in fd: FileDescriptor, path: [UInt8]) -> ListEntryKind? {
        guard let name = String(validating: entry.name, as: UTF8.self) else { return nil }
        switch entry.type {
        case .regular: return .file
        case .directory: return .directory
        case .other: return nil
        case .symlink: return classifyLink(path + entry.name)
        case .unknown:
            guard let st = try? fd.stat(at: name, follow: false) else { return nil }
            switch st.kind {
            case .regular: return .file
            case .directory: return .directory
            case .symlink: return classifyLink(path + entry.name)
            case .other: return nil
            }
        }
    }

    private func classifyLink(_ path: [UInt8]) -> ListEntryKind? {
        guard let st = try? root.statBeneath(String(decoding: path, as: UTF8.self)) else { return nil }
        switch st.kind {
        case .regular: return .linkedFile
        case .directory: return .linkedDirectory
        case .symlink, .other: return nil
        }
    }

    private func load(_ fd: FileDescriptor, path: [UInt8]) throws(Errno) -> SortedDirectoryBuilder {
        var entries = SortedDirectoryBuilder()
        try fd.forEachEntry { entry in
            if let kind = classify(entry, in: fd, path: path) { entries.append(entry.name, kind) }
            return true
        }
        return entries
    }

    /// Depth-first search for one readable file, reading directories as streams (a huge
    /// directory whose first entry is a file costs one `getdents`).
    private func hasKey(fd: FileDescriptor, path: [UInt8], chain: [Identity]) -> Bool {
        var subdirectories: [([UInt8], ListEntryKind)] = []
        var found = false
        try? fd.forEachEntry { entry in
            guard let kind = classify(entry, in: fd, path: path) else { return true }
            switch kind {
            case .file, .linkedFile:
                found = statFile(entry.name, kind: kind, in: fd, device: chain.last?.device ?? 0, path: path) != nil
            case .directory, .linkedDirectory:
                subdirectories.append((entry.name, kind))
            }
            return !found
        }
        if found { return true }
        for (name, kind) in subdirectories {
            let child: FileDescriptor? = kind == .directory
                ? try? fd.openBeneath(String(decoding: name, as: UTF8.self), directory: true)
                : try? root.openBeneath(String(decoding: path + name, as: UTF8.self), directory: true)
            guard let child, let st = try? child.stat(), st.kind == .directory else { continue }
            let id = Identity(device: st.device, inode: st.inode)
            if chain.contains(id) { continue }
            if hasKey(fd: child, path: path + name + [0x2F], chain: chain + [id]) { return true }
        }
        return false
    }
}
