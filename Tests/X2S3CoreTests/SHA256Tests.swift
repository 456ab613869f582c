import Hashing
@testable import S3Protocol
import Testing
@testable import X2S3Core

@Suite struct SHA256Tests {
    @Test(arguments: [
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
    ])
    func nistVectorsHashToTheirPublishedDigests(message: String, digest: String) {
        #expect(SHA256.hex(SHA256.hash(Array(message.utf8))) == digest)
    }

    @Test func aMillionAsHashedInUnevenChunksMatchesTheNISTDigest() {
        var s = SHA256()
        let chunk = [UInt8](repeating: 0x61, count: 997)
        var left = 1_000_000
        while left > 0 {
            let n = min(left, chunk.count)
            s.update(chunk[0..<n])
            left -= n
        }
        #expect(SHA256.hex(s.finalize()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func messagesAroundThePaddingBoundaryHashLikeOneShot() {
        // 55, 56 and 64 bytes exercise the one- and two-block padding paths.
        for n in [55, 56, 63, 64, 65, 119, 120] {
            let m = [UInt8](repeating: 0x78, count: n)
            var s = SHA256()
            for b in m { s.update([b]) }
            #expect(s.finalize() == SHA256.hash(m), "length \(n)")
        }
    }

    @Test(arguments: [
        ([UInt8](repeating: 0x0b, count: 20), Array("Hi There".utf8),
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        (Array("Jefe".utf8), Array("what do ya want for nothing?".utf8),
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
        ([UInt8](repeating: 0xaa, count: 20), [UInt8](repeating: 0xdd, count: 50),
         "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
        (Array(1...25), [UInt8](repeating: 0xcd, count: 50),
         "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
        ([UInt8](repeating: 0xaa, count: 131), Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
        ([UInt8](repeating: 0xaa, count: 131),
         Array("This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.".utf8),
         "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
    ])
    func hmacMatchesRFC4231TestCases(key: [UInt8], data: [UInt8], mac: String) {
        #expect(SHA256.hex(HMACSHA256.authenticate(key: key, message: data)) == mac)
        // The keyed form the signature check uses, twice (its absorbed pads must not change).
        let keyed = KeyedHMAC(key: key)
        for _ in 0..<2 {
            var out = [UInt8](repeating: 0, count: 32)
            data.withUnsafeBytes { keyed.authenticate($0, into: &out) }
            #expect(SHA256.hex(out) == mac)
        }
    }

    @Test func theLowLevelDigestMatchesTheEVPOneAcrossBlockBoundaries() {
        for n in [0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 300, 1000] {
            let m = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            var out = [UInt8](repeating: 0, count: 32)
            m.withUnsafeBytes { KeyedHMAC.digest($0, into: &out) }
            #expect(out == SHA256.hash(m), "length \(n)")
        }
    }
}
