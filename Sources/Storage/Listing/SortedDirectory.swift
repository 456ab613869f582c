import Posix

/// What a listable directory entry is, decided once when the directory is read.
enum ListEntryKind: UInt8, Sendable {
    /// A regular file (`d_type` or `lstat` said so).
    case file
    /// A real subdirectory.
    case directory
    /// A symlink that resolves, beneath the bucket root, to a regular file.
    case linkedFile
    /// A symlink that resolves, beneath the bucket root, to a directory.
    case linkedDirectory

    var isDirectory: Bool { self == .directory || self == .linkedDirectory }
    var isLink: Bool { self == .linkedFile || self == .linkedDirectory }
}

/// One directory's listable entries in S3 order: by name bytes, a directory `d` sorting as
/// `d/`. Immutable once built, so the cache and any number of cursors share it.
///
/// The entries live in one flat image, the same in memory and on disk (`SortedNameIndex`
/// maps it from a file shared by every worker): a header naming the directory it describes,
/// a table of `count + 1` name offsets, one kind byte per entry, then the names back to back.
/// Every read is bounds-checked against the image, so a damaged file can misorder a listing's
/// candidates (each is still checked when emitted) but never read outside it.
final class SortedDirectory {
    static let magic: UInt64 = 0x3158_494E_5333_5832  // "X2S3NIX1", little-endian
    static let headerSize = 96
    /// Header flag: some entry is a symlink, whose target can change without the directory's mtime.
    static let hasLinksFlag: UInt32 = 1

    /// The image; owned (heap) unless `mapping` holds it.
    // SAFETY: either heap memory this object frees in deinit, or the bytes of mapping, which this object
    //  keeps alive; every slice handed out is checked against namesLength and used only while the object
    //  lives.
    let image: UnsafeRawBufferPointer
    private let mapping: MappedFile?
    let count: Int
    private let namesStart: Int
    private let namesLength: Int
    /// When the image was made (seconds since the epoch) and whether it has symlinks.
    let createdAt: Int64
    let hasLinks: Bool

    /// Approximate heap cost, for the per-worker cache's budget. A mapped image is clean page
    /// cache shared by all workers, which the kernel reclaims at will: it counts as a little.
    var cost: Int { mapping == nil ? image.count + 64 : 1024 }

    /// Takes ownership of a heap image made by `SortedDirectoryBuilder`.
    init(heap image: UnsafeMutableRawBufferPointer) {
        // SAFETY: takes ownership of memory SortedDirectoryBuilder allocated; freed in deinit.
        self.image = UnsafeRawBufferPointer(image)
        mapping = nil
        guard let h = SortedDirectory.Header(image: self.image) else { preconditionFailure("SortedDirectoryBuilder wrote a bad header") }
        count = h.count
        namesStart = h.namesStart
        namesLength = h.namesLength
        createdAt = h.createdAt
        hasLinks = h.flags & SortedDirectory.hasLinksFlag != 0
    }

    /// A mapped image, if its header describes exactly `key` and its length adds up.
    init?(mapping: MappedFile, expecting key: SortedNameCache.Key) {
        guard let h = Header(image: mapping.bytes), h.key == key else { return nil }
        self.mapping = mapping
        image = mapping.bytes
        count = h.count
        namesStart = h.namesStart
        namesLength = h.namesLength
        createdAt = h.createdAt
        hasLinks = h.flags & SortedDirectory.hasLinksFlag != 0
    }

    deinit {
        // SAFETY: a heap image is owned by this object (init(heap:)) and freed once, here.
        if mapping == nil, let base = image.baseAddress { UnsafeMutableRawPointer(mutating: base).deallocate() }
    }

    /// The header fields, validated against the image's length.
    struct Header {
        var flags: UInt32
        var key: SortedNameCache.Key
        var count: Int
        var namesLength: Int
        var createdAt: Int64
        var namesStart: Int { SortedDirectory.headerSize + 5 * count + 4 }

        init?(image: UnsafeRawBufferPointer) {
            guard image.count >= SortedDirectory.headerSize else { return nil }
            func u64(_ at: Int) -> UInt64 { UInt64(littleEndian: image.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
            guard u64(0) == SortedDirectory.magic, u64(8) & 0xFFFF_FFFF == 1 else { return nil }
            flags = UInt32(u64(8) >> 32)
            key = SortedNameCache.Key(rootDevice: u64(16), rootInode: u64(24), device: u64(32), inode: u64(40),
                                      mtimeSeconds: Int64(bitPattern: u64(48)), mtimeNanoseconds: Int64(bitPattern: u64(56)))
            guard u64(64) < UInt64(Int32.max), u64(72) <= UInt64(UInt32.max) else { return nil }
            count = Int(u64(64))
            namesLength = Int(u64(72))
            createdAt = Int64(bitPattern: u64(80))
            guard image.count == SortedDirectory.headerSize + 5 * count + 4 + namesLength else { return nil }
        }

        /// Writes a header for an image of `count` entries and `namesLength` name bytes.
        static func write(into image: UnsafeMutableRawBufferPointer, key: SortedNameCache.Key, flags: UInt32,
                          count: Int, namesLength: Int, createdAt: Int64) {
            let fields: [UInt64] = [SortedDirectory.magic, 1 | UInt64(flags) << 32, key.rootDevice, key.rootInode,
                                    key.device, key.inode, UInt64(bitPattern: key.mtimeSeconds),
                                    UInt64(bitPattern: key.mtimeNanoseconds), UInt64(count), UInt64(namesLength),
                                    UInt64(bitPattern: createdAt), 0]
            for (i, v) in fields.enumerated() { image.storeBytes(of: v.littleEndian, toByteOffset: i * 8, as: UInt64.self) }
        }
    }

    private func offset(_ i: Int) -> Int {
        Int(UInt32(littleEndian: image.loadUnaligned(fromByteOffset: SortedDirectory.headerSize + 4 * i, as: UInt32.self)))
    }

    /// Entry `i`'s name bytes; empty if the image is inconsistent there.
    private func nameBytes(_ i: Int) -> UnsafeRawBufferPointer {
        let lo = offset(i), hi = offset(i + 1)
        // SAFETY: the offsets are checked against namesLength, inside the image.
        guard lo <= hi, hi <= namesLength else { return UnsafeRawBufferPointer(start: image.baseAddress, count: 0) }
        return UnsafeRawBufferPointer(rebasing: image[(namesStart + lo)..<(namesStart + hi)])
    }

    func kind(_ i: Int) -> ListEntryKind {
        ListEntryKind(rawValue: image[SortedDirectory.headerSize + 4 * (count + 1) + i]) ?? .file
    }

    func name(_ i: Int) -> [UInt8] { withExtendedLifetime(self) { Array(nameBytes(i)) } }

    /// Three-way comparison of two sort keys (`name` plus `/` for a directory).
    static func compare(_ a: UnsafeRawBufferPointer, _ aDir: Bool, _ b: UnsafeRawBufferPointer, _ bDir: Bool) -> Int {
        let n = min(a.count, b.count)
        var i = 0
        while i < n {
            let x = a[i], y = b[i]
            if x != y { return x < y ? -1 : 1 }
            i += 1
        }
        // One name is a prefix of the other: the directory slash (0x2F) takes the next place.
        // (Real names contain no '/', so a slash never meets a slash.)
        let xa: Int = i < a.count ? Int(a[i]) : (aDir ? 0x2F : -1)
        let yb: Int = i < b.count ? Int(b[i]) : (bDir ? 0x2F : -1)
        if xa == yb { return (aDir ? a.count + 1 : a.count) - (bDir ? b.count + 1 : b.count) }
        return xa < yb ? -1 : 1
    }

    /// Compares entry `i`'s sort key with `target`: -1, 0 or 1; with `prefixMatch`, a sort key
    /// that starts with `target` counts as equal (for skipping everything under a prefix).
    func compare(entry i: Int, to target: ArraySlice<UInt8>, prefixMatch: Bool = false) -> Int {
        withExtendedLifetime(self) {
            let n = nameBytes(i)
            let keyCount = n.count + (kind(i).isDirectory ? 1 : 0)
            var t = target.startIndex
            var j = 0
            while j < keyCount && t != target.endIndex {
                let b = j < n.count ? n[j] : 0x2F
                let c = target[t]
                if b != c { return b < c ? -1 : 1 }
                j += 1
                t = target.index(after: t)
            }
            if t == target.endIndex { return (j == keyCount || prefixMatch) ? 0 : 1 }
            return -1
        }
    }

    /// The first index whose sort key is ≥ `target` (or, with `prefixMatch`, the first past
    /// every key starting with `target` when `upper` is set).
    func search(_ target: ArraySlice<UInt8>, upperPastPrefix upper: Bool = false) -> Int {
        var lo = 0, hi = count
        while lo < hi {
            let mid = (lo + hi) / 2
            let c = compare(entry: mid, to: target, prefixMatch: upper)
            if c < 0 || (upper && c == 0) { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// Whether entry `i`'s sort key (`name/` for a directory) is a proper prefix of `target`.
    func isProperPrefix(entry i: Int, of target: ArraySlice<UInt8>) -> Bool {
        let keyCount = withExtendedLifetime(self) { nameBytes(i).count } + (kind(i).isDirectory ? 1 : 0)
        guard keyCount < target.count else { return false }
        return compare(entry: i, to: target[target.startIndex..<(target.startIndex + keyCount)]) == 0
    }
}

/// Collects a directory's entries packed in three flat arrays (not one array per name: a
/// million names would cost a million allocations and several times their size), sorts them,
/// and writes the sorted image piece by piece: into memory for a small directory, straight
/// into the index file for a large one (so a million names are never held twice).
struct SortedDirectoryBuilder {
    private var names: [UInt8] = []
    private var starts: [UInt32] = []
    private var kinds: [ListEntryKind] = []
    /// False once the names outgrow the image's 32-bit offsets (4 GiB of names).
    private(set) var fits = true

    var count: Int { kinds.count }
    var imageSize: Int { SortedDirectory.headerSize + 5 * count + 4 + names.count }

    mutating func append(_ name: [UInt8], _ kind: ListEntryKind) {
        guard fits, names.count + name.count <= Int(UInt32.max) else {
            fits = false
            return
        }
        starts.append(UInt32(names.count))
        names += name
        kinds.append(kind)
    }

    private func end(_ i: Int) -> Int { i + 1 < starts.count ? Int(starts[i + 1]) : names.count }

    /// Entry numbers in S3 order. The sort compares slices of the packed buffer, so it
    /// allocates nothing per comparison.
    func sortedOrder() -> [UInt32] {
        var order = [UInt32](repeating: 0, count: count)
        for i in 0..<count { order[i] = UInt32(i) }
        // SAFETY: the three arrays outlive the closures; every slice lies within names (starts are offsets
        //  into it, in order).
        names.withUnsafeBytes { buf in
            starts.withUnsafeBufferPointer { s in
                kinds.withUnsafeBufferPointer { k in
                    let total = UInt32(buf.count)
                    func slice(_ i: Int) -> UnsafeRawBufferPointer {
                        // SAFETY: starts are ascending offsets into names, ending at total.
                        UnsafeRawBufferPointer(rebasing: buf[Int(s[i])..<Int(i + 1 < s.count ? s[i + 1] : total)])
                    }
                    order.sort { i, j in
                        SortedDirectory.compare(slice(Int(i)), k[Int(i)].isDirectory, slice(Int(j)), k[Int(j)].isDirectory) < 0
                    }
                }
            }
        }
        return order
    }

    /// The image for `key`, made at `now`, in `order`, handed to `write` in pieces of at most
    /// 64 KiB.
    func emit(order: [UInt32], key: SortedNameCache.Key, now: Int64,
              to write: (UnsafeRawBufferPointer) throws(Errno) -> Void) throws(Errno) {
        // SAFETY: chunk is freed by the defer below; put copies at most the room left in it.
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 8)
        defer { chunk.deallocate() }
        var used = 0
        func put(_ bytes: UnsafeRawBufferPointer) throws(Errno) {
            var rest = bytes
            while !rest.isEmpty {
                let n = min(rest.count, chunk.count - used)
                // SAFETY: n is at most the room left in chunk and the bytes left in rest.
                UnsafeMutableRawBufferPointer(rebasing: chunk[used..<(used + n)]).copyMemory(from: UnsafeRawBufferPointer(rebasing: rest[0..<n]))
                used += n
                rest = UnsafeRawBufferPointer(rebasing: rest[n...])
                if used == chunk.count {
                    try write(UnsafeRawBufferPointer(chunk))
                    used = 0
                }
            }
        }
        // SAFETY: withUnsafeBytes lends the value's bytes for the call; put copies them.
        func put32(_ v: UInt32) throws(Errno) { try withUnsafeBytes(of: v.littleEndian) { (b) throws(Errno) in try put(b) } }

        let header = UnsafeMutableRawBufferPointer.allocate(byteCount: SortedDirectory.headerSize, alignment: 8)
        defer { header.deallocate() }
        let flags = kinds.contains(where: \.isLink) ? SortedDirectory.hasLinksFlag : 0
        SortedDirectory.Header.write(into: header, key: key, flags: flags, count: count, namesLength: names.count, createdAt: now)
        try put(UnsafeRawBufferPointer(header))
        var position: UInt32 = 0
        for i in order {
            try put32(position)
            position += UInt32(end(Int(i))) - starts[Int(i)]
        }
        try put32(position)
        for i in order { try withUnsafeBytes(of: kinds[Int(i)].rawValue) { (b) throws(Errno) in try put(b) } }
        let failure: Errno? = names.withUnsafeBytes { buf in
            for i in order {
                do throws(Errno) { try put(UnsafeRawBufferPointer(rebasing: buf[Int(starts[Int(i)])..<end(Int(i))])) } catch { return error }
            }
            return nil
        }
        if let failure { throw failure }
        if used > 0 { try write(UnsafeRawBufferPointer(rebasing: chunk[0..<used])) }
    }

    /// The sorted image in memory.
    func build(order: [UInt32], key: SortedNameCache.Key, now: Int64) -> SortedDirectory {
        // SAFETY: image is sized for the header and every piece copied in (imageSize above) and handed to
        //  SortedDirectory, which owns it.
        let image = UnsafeMutableRawBufferPointer.allocate(byteCount: imageSize, alignment: 8)
        var filled = 0
        // Writing into memory cannot fail.
        try? emit(order: order, key: key, now: now) { piece in
            UnsafeMutableRawBufferPointer(rebasing: image[filled..<(filled + piece.count)]).copyMemory(from: piece)
            filled += piece.count
        }
        return SortedDirectory(heap: image)
    }
}
