import Posix
import Testing

/// Which permission class decides, as the kernel picks it: owner, else group (the process's
/// effective or supplementary groups), else other; a class that denies is final even when
/// another class would grant.
@Suite struct FileStatTests {
    static let user: UInt32 = 1000
    static let groups: Set<UInt32> = [1000, 27]

    @Test(arguments: [
        // (mode, owner, group, readable)
        (UInt32(0o400), UInt32(1000), UInt32(5000), true),   // owner reads
        (0o044, 1000, 1000, false),                          // owner denied; group and other would grant
        (0o040, 2000, 27, true),                             // a supplementary group reads
        (0o040, 2000, 1000, true),                           // the effective group reads
        (0o404, 2000, 27, false),                            // group denied; owner and other would grant
        (0o004, 2000, 3000, true),                           // other reads
        (0o440, 2000, 3000, false),                          // other denied
        (0o000, 1000, 1000, false),
    ])
    func theProcesssClassDecides(mode: UInt32, owner: UInt32, group: UInt32, readable: Bool) {
        let st = FileStat(kind: .regular, size: 1, mtimeSeconds: 0, permissions: mode, owner: owner, group: group)
        #expect(st.modeGrantsRead(user: Self.user, groups: Self.groups) == readable)
    }
}
