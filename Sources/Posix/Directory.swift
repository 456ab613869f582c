internal import Glibc

/// One entry of a directory, as `readdir(3)` reports it.
public struct DirectoryEntry: Sendable, Equatable {
    /// The raw name bytes (not necessarily UTF-8).
    public var name: [UInt8]
    public var type: EntryType

    /// `d_type`; `.unknown` means the filesystem did not say and the caller must stat.
    public enum EntryType: Sendable, Equatable { case regular, directory, symlink, unknown, other }

    public init(name: [UInt8], type: EntryType) {
        self.name = name
        self.type = type
    }
}
