internal import CCrypto

/// A digest being computed by OpenSSL's libcrypto, which uses the CPU's hash instructions where
/// it has them. Owns its `EVP_MD_CTX`, freed exactly once in `deinit`. Mutated in place: value
/// types built on it copy it (`init(copying:)`) before mutating a shared one.
public final class DigestState {
    /// The digests x2s3 computes.
    public enum Algorithm: Sendable {
        /// MD5, for content ETags only (what S3 clients check); never for security.
        case md5
        /// SHA-256: listing tokens, HMAC, SigV4.
        case sha256

        var md: OpaquePointer {
            switch self {
            case .md5: FetchedDigests.shared.md5 ?? EVP_md5()
            case .sha256: FetchedDigests.shared.sha256 ?? EVP_sha256()
            }
        }
    }

    private let context: OpaquePointer

    /// A fresh digest. Wraps `EVP_MD_CTX_new`, `EVP_DigestInit_ex`.
    public init(_ algorithm: Algorithm) {
        context = Self.newContext()
        // Fails only when the library cannot provide the algorithm at all (MD5 under a FIPS-only
        // configuration): no request could then be answered correctly.
        precondition(EVP_DigestInit_ex(context, algorithm.md, nil) == 1, "libcrypto cannot compute \(algorithm)")
    }

    /// A copy of `other`'s progress, to continue separately. Wraps `EVP_MD_CTX_copy_ex`.
    public init(copying other: DigestState) {
        context = Self.newContext()
        precondition(EVP_MD_CTX_copy_ex(context, other.context) == 1, "EVP_MD_CTX_copy_ex failed")
    }

    /// Wraps `EVP_MD_CTX_free`.
    deinit { EVP_MD_CTX_free(context) }

    private static func newContext() -> OpaquePointer {
        guard let context = EVP_MD_CTX_new() else { preconditionFailure("EVP_MD_CTX_new: out of memory") }
        return context
    }

    /// Feeds more message bytes. Wraps `EVP_DigestUpdate`.
    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        precondition(EVP_DigestUpdate(context, base, bytes.count) == 1, "EVP_DigestUpdate failed")
    }

    /// The digest of everything fed so far; the state is spent afterwards. Wraps `EVP_DigestFinal_ex`.
    public func finalize() -> [UInt8] {
        // SAFETY: libcrypto writes at most EVP_MAX_MD_SIZE bytes and says how many; that count is what the
        //  array keeps.
        [UInt8](unsafeUninitializedCapacity: Int(EVP_MAX_MD_SIZE)) { out, count in
            var size: UInt32 = 0
            precondition(EVP_DigestFinal_ex(context, out.baseAddress, &size) == 1, "EVP_DigestFinal_ex failed")
            count = Int(size)
        }
    }

    /// The digest of `bytes` in one call. Wraps `EVP_Digest`.
    public static func hash(_ algorithm: Algorithm, _ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        // SAFETY: libcrypto reads bytes during the call and writes at most EVP_MAX_MD_SIZE bytes, reporting
        //  the count kept.
        [UInt8](unsafeUninitializedCapacity: Int(EVP_MAX_MD_SIZE)) { out, count in
            var size: UInt32 = 0
            precondition(EVP_Digest(bytes.baseAddress, bytes.count, out.baseAddress, &size, algorithm.md, nil) == 1,
                         "EVP_Digest failed")
            count = Int(size)
        }
    }

    /// HMAC-SHA256 (RFC 2104) of `message` under `key`, as two SHA-256 digests of the padded key
    /// and the message. OpenSSL 3's one-shot `HMAC` fetches the MAC algorithm from its provider
    /// store (taking a lock) on every call; the fetched SHA-256 here is looked up once.
    public static func hmacSHA256(key: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer) -> [UInt8] {
        let blockSize = 64, digestSize = 32
        let md = Algorithm.sha256.md
        let context = newContext()
        defer { EVP_MD_CTX_free(context) }
        // SAFETY: `pad` and `inner` live until the closure returns; libcrypto reads the counts given
        //  and writes one digest (32 bytes) into `inner` and into the result, which keeps that count.
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: blockSize + digestSize) { buffer in
            let pad = UnsafeMutableBufferPointer(rebasing: buffer[..<blockSize])
            let inner = UnsafeMutableBufferPointer(rebasing: buffer[blockSize...])
            pad.initialize(repeating: 0)
            if key.count > blockSize {
                var size: UInt32 = 0
                precondition(EVP_Digest(key.baseAddress, key.count, pad.baseAddress, &size, md, nil) == 1, "EVP_Digest failed")
            } else if key.count > 0 {
                UnsafeMutableRawBufferPointer(pad).copyMemory(from: key)
            }
            for i in 0..<blockSize { pad[i] ^= 0x36 }
            digest(context, md, UnsafeRawBufferPointer(pad), message, into: inner.baseAddress!)
            for i in 0..<blockSize { pad[i] ^= 0x36 ^ 0x5C }
            let mac = [UInt8](unsafeUninitializedCapacity: digestSize) { out, count in
                digest(context, md, UnsafeRawBufferPointer(pad), UnsafeRawBufferPointer(inner), into: out.baseAddress!)
                count = digestSize
            }
            pad.update(repeating: 0)
            return mac
        }
    }

    /// SHA-256 of `a` then `b` into `out` (32 bytes), reusing `context`.
    private static func digest(_ context: OpaquePointer, _ md: OpaquePointer, _ a: UnsafeRawBufferPointer,
                               _ b: UnsafeRawBufferPointer, into out: UnsafeMutablePointer<UInt8>) {
        var size: UInt32 = 0
        precondition(EVP_DigestInit_ex(context, md, nil) == 1, "EVP_DigestInit_ex failed")
        if let base = a.baseAddress, a.count > 0 { precondition(EVP_DigestUpdate(context, base, a.count) == 1, "EVP_DigestUpdate failed") }
        if let base = b.baseAddress, b.count > 0 { precondition(EVP_DigestUpdate(context, base, b.count) == 1, "EVP_DigestUpdate failed") }
        precondition(EVP_DigestFinal_ex(context, out, &size) == 1 && size == 32, "EVP_DigestFinal_ex failed")
    }
}

/// The digest algorithms fetched from libcrypto's default provider once per process. Passing
/// the legacy `EVP_sha256()` to `EVP_DigestInit_ex` makes OpenSSL 3 fetch the implementation
/// (a locked provider-store lookup) on every init. Nil when the provider lacks one (MD5 under a
/// FIPS-only configuration): the legacy object is used and fails as before. Never freed
/// (process lifetime).
// SAFETY: a fetched EVP_MD is immutable and refcounted; OpenSSL documents sharing one between threads.
private struct FetchedDigests: @unchecked Sendable {
    let sha256: OpaquePointer?
    let md5: OpaquePointer?
    static let shared = FetchedDigests(sha256: EVP_MD_fetch(nil, "SHA256", nil), md5: EVP_MD_fetch(nil, "MD5", nil))
}
