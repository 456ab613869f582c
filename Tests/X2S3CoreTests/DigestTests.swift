@testable import S3Protocol
import Testing
@testable import X2S3Core

/// The digests behind ETags, tokens and SigV4: published vectors, chunking, value semantics.
@Suite struct DigestTests {
    @Test(arguments: [
        ("", "d41d8cd98f00b204e9800998ecf8427e"),
        ("a", "0cc175b9c0f1b6a831c399e269772661"),
        ("abc", "900150983cd24fb0d6963f7d28e17f72"),
        ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
        ("abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"),
        ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"),
        ("12345678901234567890123456789012345678901234567890123456789012345678901234567890",
         "57edf4a22be3c955ac49da2e2107b67a"),
    ])
    func rfc1321VectorsHashToTheirPublishedDigests(message: String, digest: String) {
        var m = MD5()
        m.update(Array(message.utf8))
        #expect(MD5.hex(m.finalize()) == digest)
    }

    @Test func unevenChunksAroundBlockBoundariesHashLikeOneUpdate() {
        let message = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var whole = MD5()
        whole.update(message)
        let expected = whole.finalize()
        for chunk in [1, 7, 55, 56, 63, 64, 65, 333] {
            var m = MD5()
            var i = 0
            while i < message.count {
                let end = min(message.count, i + chunk)
                message[i..<end].withUnsafeBytes { m.update($0) }
                i = end
            }
            #expect(m.finalize() == expected, "chunks of \(chunk)")
        }
    }

    /// A copy continues on its own: digests are values.
    @Test func copiesAreIndependent() {
        var a = MD5()
        a.update(Array("abc".utf8))
        var b = a
        b.update(Array("def".utf8))
        #expect(MD5.hex(a.finalize()) == "900150983cd24fb0d6963f7d28e17f72")
        #expect(MD5.hex(b.finalize()) == "e80b5017098950fc58aad83c8c14978e")
        var s = SHA256()
        s.update(Array("abc".utf8))
        var t = s
        t.update(Array("def".utf8))
        #expect(SHA256.hex(s.finalize()) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex(t.finalize()) == "bef57ec7f53a6d40beb640a780a639c83bc29ac8a9816f1fc6c5c6dcd93c4721")
    }
}
