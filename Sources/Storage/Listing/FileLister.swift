import Posix
import S3Protocol

/// ListObjects (V1) and ListObjectsV2 over a POSIX directory, with AWS S3's semantics: keys are
/// relative paths joined with `/`, in UTF-8 byte order over the whole tree; `prefix` is a plain
/// string prefix; any delimiter string rolls keys up into CommonPrefixes, which count toward
/// max-keys and page with the keys; positions (`start-after`, `marker`, tokens) mean "strictly
/// after", item by item (a common prefix at or before the position is not repeated).
///
/// A page costs O(page + directories touched), not O(tree): the walk starts in the deepest
/// directory the prefix names, jumps straight to the resume position, rolls directory subtrees
/// into common prefixes without reading them, and stats only the files it returns.
///
/// Skipped, never an error: keys longer than S3's 1,024 bytes, names that are not UTF-8,
/// special files, broken symlinks and symlinks resolving outside the root, unreadable files and
/// directories, empty directories, and directory symlinks that would loop back onto the
/// current path.
struct FileLister {
    private let root: FileDescriptor
    private let bucket: String
    private let etag: (FileStat, _ open: () -> FileDescriptor?) -> String?
    private let cache: SortedNameCache
    private let virtualPrefix: [UInt8]

    /// `bucket` is the name as the client addressed it (continuation tokens are bound to it,
    /// case-insensitively). `etag` computes a listed file's ETag from its stat, calling `open`
    /// (the file opened beneath the root) only if it needs the content. `cache` should live as
    /// long as the worker: it is what makes the last page of a huge directory as cheap as the
    /// first.
    /// `virtualPrefix` (empty, or ending in `/`): the key prefix the directory is mounted at;
    /// listed keys carry it, and queries are answered in that key space.
    init(root: FileDescriptor, bucket: String, cache: SortedNameCache = SortedNameCache(), virtualPrefix: String = "",
         etag: @escaping (FileStat, _ open: () -> FileDescriptor?) -> String?) {
        self.root = root
        self.bucket = bucket
        self.cache = cache
        self.virtualPrefix = Array(virtualPrefix.utf8)
        self.etag = etag
    }

    /// One page of the listing `query` asks for. Throws only for a continuation token this
    /// listing did not issue (400 InvalidArgument); storage trouble shows up as missing entries.
    func list(_ query: ListQuery) throws(S3Error) -> ListPage {
        let prefix = Array(query.prefix.utf8)
        let delimiter: [UInt8]? = query.delimiter.flatMap { $0.isEmpty ? nil : Array($0.utf8) }
        let position = try resumePosition(query)

        var page = ListPage()
        guard query.maxKeys > 0 else { return page }
        let realPrefix: [UInt8], realPosition: [UInt8]?
        switch FileLister.mapToDirectory(prefix: prefix, delimiter: delimiter, position: position, virtualPrefix: virtualPrefix) {
        case .nothing:
            return page
        case .virtualCommonPrefix(let cp):
            // A prefix that exists only as part of the mount point: one common prefix, if the
            // directory holds any key at all (S3 shows no empty prefixes).
            if var any = walk(prefix: [], delimiter: nil, position: nil), any.nextItem() != nil {
                page.commonPrefixes = [String(decoding: cp, as: UTF8.self)]
            }
            return page
        case .walk(let p, let pos):
            (realPrefix, realPosition) = (p, pos)
        }
        guard var walk = walk(prefix: realPrefix, delimiter: delimiter, position: realPosition) else { return page }

        var count = 0
        var last: [UInt8] = []
        while let item = walk.nextItem() {
            if count == query.maxKeys {
                page.isTruncated = true
                break
            }
            switch item {
            case .object(let key, let stat):
                let name = String(decoding: key, as: UTF8.self)
                page.objects.append(ListedObject(
                    key: String(decoding: virtualPrefix + key, as: UTF8.self), size: stat.size,
                    lastModified: Timestamp(seconds: stat.mtimeSeconds, nanoseconds: stat.mtimeNanoseconds),
                    etag: etag(stat) { [root] in try? root.openBeneath(name) }))
                last = key
            case .prefix(let cp):
                page.commonPrefixes.append(String(decoding: virtualPrefix + cp, as: UTF8.self))
                last = cp
            }
            count += 1
        }
        if page.isTruncated {
            // Positions are in the client's key space (with the virtual prefix).
            let position = virtualPrefix + last
            switch query.version {
            case .v2:
                page.nextContinuationToken = ContinuationToken.make(position: position, bucket: bucket,
                                                                   prefix: query.prefix, delimiter: query.delimiter)
            case .v1:
                if delimiter != nil { page.nextMarker = String(decoding: position, as: UTF8.self) }
            }
        }
        return page
    }

    /// A walk over the directory's own key space, or nil when nothing can follow `position`.
    private func walk(prefix: [UInt8], delimiter: [UInt8]?, position: [UInt8]?) -> Walk? {
        guard let bound = FileLister.startBound(prefix: prefix, delimiter: delimiter, position: position),
              let cursor = DirectoryCursor(root: root, cache: cache, basePath: FileLister.baseDirectory(of: prefix))
        else { return nil }
        cursor.seek(bound)
        return Walk(cursor: cursor, prefix: prefix, delimiter: delimiter, position: position,
                    maxKeyBytes: S3Request.maxKeyBytes - virtualPrefix.count)
    }

    /// How a query in the client's key space maps onto the directory mounted at `virtualPrefix`.
    enum Mapping: Equatable {
        /// No key of the directory can match.
        case nothing
        /// The answer is this one common prefix, part of the mount point (if the directory has keys).
        case virtualCommonPrefix([UInt8])
        /// Walk the directory with this prefix and position (the virtual prefix removed).
        case walk(prefix: [UInt8], position: [UInt8]?)
    }

    static func mapToDirectory(prefix: [UInt8], delimiter: [UInt8]?, position: [UInt8]?, virtualPrefix vp: [UInt8]) -> Mapping {
        // Every key of the directory starts with vp, so a position before vp excludes none and
        // one past all vp… keys excludes all.
        let realPosition: [UInt8]?
        if let position, !position.lexicographicallyPrecedes(vp) {
            guard position.starts(with: vp) else { return .nothing }
            realPosition = Array(position[vp.count...])
        } else {
            realPosition = nil
        }
        if prefix.starts(with: vp) { return .walk(prefix: Array(prefix[vp.count...]), position: realPosition) }
        guard vp.starts(with: prefix) else { return .nothing }
        // The prefix stops inside the mount point. A delimiter there rolls everything up into
        // one prefix (a delimiter straddling the mount point's end is not seen: it would need
        // one containing `/` followed by more bytes).
        if let delimiter, let cp = commonPrefix(of: vp, prefixCount: prefix.count, delimiter: delimiter) {
            if let position, !position.lexicographicallyPrecedes(cp) { return .nothing }
            return .virtualCommonPrefix(cp)
        }
        return .walk(prefix: [], position: realPosition)
    }

    /// The position results must come strictly after: the token's (which overrides
    /// `start-after`, as in S3), else `start-after` (V2) or `marker` (V1).
    private func resumePosition(_ query: ListQuery) throws(S3Error) -> [UInt8]? {
        switch query.version {
        case .v2:
            if let token = query.continuationToken {
                return try ContinuationToken.position(of: token, bucket: bucket, prefix: query.prefix, delimiter: query.delimiter)
            }
            return query.startAfter.flatMap { $0.isEmpty ? nil : Array($0.utf8) }
        case .v1:
            return query.marker.flatMap { $0.isEmpty ? nil : Array($0.utf8) }
        }
    }

    /// The deepest directory `prefix` fully names: `a/b/c` → `a/b/`, `a/b/` → `a/b/`, `a` → ``.
    static func baseDirectory(of prefix: [UInt8]) -> [UInt8] {
        guard let slash = prefix.lastIndex(of: 0x2F) else { return [] }
        return Array(prefix[...slash])
    }

    /// Where the walk starts, or nil when nothing can follow the position. Keys at or before
    /// the position are never needed, and neither is the rest of the group the position itself
    /// falls in (its common prefix is ≤ the position, so it was already returned).
    static func startBound(prefix: [UInt8], delimiter: [UInt8]?, position: [UInt8]?) -> DirectoryCursor.Bound? {
        guard let position, !position.lexicographicallyPrecedes(prefix) else { return .atOrAfter(prefix) }
        guard position.starts(with: prefix) else { return nil }
        if let delimiter, let cp = commonPrefix(of: position, prefixCount: prefix.count, delimiter: delimiter) {
            return .pastPrefix(cp)
        }
        return .after(position)
    }

    /// `key` up to and including the first `delimiter` at or after `prefixCount`; nil if the
    /// delimiter does not occur there. For a directory path (`a-b/`), only occurrences wholly
    /// inside it are seen, and one found means every key below rolls up into that prefix: an
    /// occurrence straddling the end could only start after it.
    static func commonPrefix(of key: [UInt8], prefixCount: Int, delimiter: [UInt8]) -> [UInt8]? {
        let d = delimiter.count
        guard d > 0, key.count >= prefixCount + d else { return nil }
        var i = prefixCount
        while i + d <= key.count {
            if key[i] == delimiter[0] && key[i..<(i + d)].elementsEqual(delimiter) { return Array(key[..<(i + d)]) }
            i += 1
        }
        return nil
    }
}

/// The listing loop over a cursor: turns entries into items (objects and common prefixes) in
/// S3 order, skipping what a listing skips.
private struct Walk {
    /// One listing result; an object comes with its stat for the size, date and ETag.
    enum Item {
        case object([UInt8], FileStat)
        case prefix([UInt8])
    }

    let cursor: DirectoryCursor
    let prefix: [UInt8]
    let delimiter: [UInt8]?
    let position: [UInt8]?
    /// Longest key listed (S3's limit less the virtual prefix the key will carry).
    let maxKeyBytes: Int

    /// The next item after the ones already returned, or nil at the end of the prefix's range.
    mutating func nextItem() -> Item? {
        while true {
            switch cursor.next() {
            case .end:
                return nil
            case .directory(let path):
                // Entries come in key order from at or after the prefix, so the first one
                // outside it ends the listing.
                guard path.starts(with: prefix) else { return nil }
                if let delimiter, let cp = FileLister.commonPrefix(of: path, prefixCount: prefix.count, delimiter: delimiter) {
                    // The whole subtree rolls up into `cp`: decide without walking it.
                    if isAtOrBeforePosition(cp) {
                        cursor.seek(.pastPrefix(cp))
                        continue
                    }
                    guard cursor.currentDirectoryHasKey() else { continue }
                    cursor.seek(.pastPrefix(cp))
                    return .prefix(cp)
                }
                // Every key below is longer than S3 allows: none is listed (nor servable).
                if path.count >= maxKeyBytes {
                    cursor.seek(.pastPrefix(path))
                    continue
                }
                cursor.descend()
            case .file(let key):
                guard key.starts(with: prefix) else { return nil }
                guard key.count <= maxKeyBytes else { continue }
                guard let stat = cursor.statCurrentFile() else { continue }
                if let delimiter, let cp = FileLister.commonPrefix(of: key, prefixCount: prefix.count, delimiter: delimiter) {
                    cursor.seek(.pastPrefix(cp))
                    if isAtOrBeforePosition(cp) { continue }
                    return .prefix(cp)
                }
                return .object(key, stat)
            }
        }
    }

    private func isAtOrBeforePosition(_ item: [UInt8]) -> Bool {
        guard let position else { return false }
        return !position.lexicographicallyPrecedes(item)
    }
}
