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
            case .md5: EVP_md5()
            case .sha256: EVP_sha256()
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

    /// HMAC-SHA256 (RFC 2104) of `message` under `key`. Wraps the one-shot `HMAC`.
    public static func hmacSHA256(key: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer) -> [UInt8] {
        // An empty Swift buffer may have no address, and libcrypto takes a null key to mean
        // "the previous key": empty inputs point at a byte of their own instead.
        // SAFETY: the temporary byte lives until the closure returns, after HMAC; libcrypto reads key.count
        //  and message.count bytes (zero for the stand-in) and writes at most EVP_MAX_MD_SIZE, reporting the
        //  count kept.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1) { empty in
            let emptyByte = UnsafeRawPointer(empty.baseAddress)
            return [UInt8](unsafeUninitializedCapacity: Int(EVP_MAX_MD_SIZE)) { out, count in
                var size: UInt32 = 0
                let result = HMAC(EVP_sha256(), key.baseAddress ?? emptyByte, Int32(key.count),
                                  (message.baseAddress ?? emptyByte)?.assumingMemoryBound(to: UInt8.self), message.count,
                                  out.baseAddress, &size)
                precondition(result != nil, "HMAC failed")
                count = Int(size)
            }
        }
    }
}
