internal import CCrypto

/// HMAC-SHA256 (RFC 2104) under one key, by libcrypto's low-level SHA-256 functions: the key's
/// two padded blocks are absorbed once, when the key is made, so each MAC costs a copy of two
/// small states and the message's blocks. For SigV4, where one derived key signs every request
/// of a day; `DigestState.hmacSHA256` stays the general one.
public struct KeyedHMAC: Sendable {
    private let inner: SHA256_CTX
    private let outer: SHA256_CTX

    public init(key: [UInt8]) {
        var block = [UInt8](repeating: 0, count: 64)
        if key.count > 64 {
            // SAFETY: both buffers live for the call; 32 bytes are written into the 64-byte block.
            key.withUnsafeBytes { k in block.withUnsafeMutableBytes { Self.digest(k, into: $0.baseAddress!) } }
        } else {
            block.replaceSubrange(0..<key.count, with: key)
        }
        var inner = SHA256_CTX(), outer = SHA256_CTX()
        _ = x2s3_sha256_init(&inner)
        _ = x2s3_sha256_init(&outer)
        // SAFETY: the padded blocks live for the calls, which read 64 bytes each.
        block.map { $0 ^ 0x36 }.withUnsafeBytes { _ = x2s3_sha256_update(&inner, $0.baseAddress, 64) }
        block.map { $0 ^ 0x5C }.withUnsafeBytes { _ = x2s3_sha256_update(&outer, $0.baseAddress, 64) }
        self.inner = inner
        self.outer = outer
    }

    /// The 32-byte MAC of `message` written to `out`, which must hold 32 bytes.
    public func authenticate(_ message: UnsafeRawBufferPointer, into out: UnsafeMutablePointer<UInt8>) {
        var context = inner
        if let base = message.baseAddress, message.count > 0 { _ = x2s3_sha256_update(&context, base, message.count) }
        _ = x2s3_sha256_final(out, &context)
        context = outer
        _ = x2s3_sha256_update(&context, out, 32)
        _ = x2s3_sha256_final(out, &context)
    }

    /// SHA-256 of `bytes` written to `out` (32 bytes), by the same low-level functions.
    public static func digest(_ bytes: UnsafeRawBufferPointer, into out: UnsafeMutableRawPointer) {
        var context = SHA256_CTX()
        _ = x2s3_sha256_init(&context)
        if let base = bytes.baseAddress, bytes.count > 0 { _ = x2s3_sha256_update(&context, base, bytes.count) }
        // SAFETY: `out` holds at least 32 bytes (the caller's promise), only ever read as bytes.
        _ = x2s3_sha256_final(out.assumingMemoryBound(to: UInt8.self), &context)
    }
}
