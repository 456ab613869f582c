import Escaping
import Hashing

/// SHA-256 (FIPS 180-4), incremental: `update` any number of times, then `finalize` once.
/// Computed by libcrypto. Used for listing tokens, HMAC and SigV4. A value: a copy continues
/// on its own.
// SAFETY: DigestState is mutated only once `unique()` made it this value's own (copy-on-write).
public struct SHA256: @unchecked Sendable {
    /// The digest size in bytes.
    public static let digestSize = 32
    /// The block size in bytes (HMAC needs it).
    public static let blockSize = 64

    private var state = DigestState(.sha256)

    public init() {}

    /// One-shot digest of `bytes`.
    public static func hash<C: Collection>(_ bytes: C) -> [UInt8] where C.Element == UInt8 {
        withContiguousBytes(bytes) { DigestState.hash(.sha256, $0) }
    }

    /// `hash` of array bytes, not generic: across modules the generic one is not specialized
    /// and looked up type metadata on every call (a tenth of a signature check).
    public static func hash(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        // SAFETY: the buffer is lent for the digest's call only, and the digest does not keep it.
        bytes.withUnsafeBytes { DigestState.hash(.sha256, $0) }
    }

    /// Feeds more message bytes.
    public mutating func update<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        unique()
        withContiguousBytes(bytes) { state.update($0) }
    }

    /// The 32-byte digest; feed nothing after it.
    public mutating func finalize() -> [UInt8] {
        unique()
        return state.finalize()
    }

    private mutating func unique() {
        if !isKnownUniquelyReferenced(&state) { state = DigestState(copying: state) }
    }
}

/// HMAC-SHA256 (RFC 2104), the MAC behind listing tokens and AWS SigV4.
public enum HMACSHA256 {
    /// The 32-byte MAC of `message` under `key`.
    public static func authenticate<K: Collection, M: Collection>(key: K, message: M) -> [UInt8]
    where K.Element == UInt8, M.Element == UInt8 {
        withContiguousBytes(key) { key in withContiguousBytes(message) { DigestState.hmacSHA256(key: key, message: $0) } }
    }

    /// `authenticate` of array bytes, not generic (see `SHA256.hash(_: ArraySlice)`).
    public static func authenticate(key: [UInt8], message: ArraySlice<UInt8>) -> [UInt8] {
        // SAFETY: both buffers are lent for the MAC's call only, and it does not keep them.
        key.withUnsafeBytes { key in message.withUnsafeBytes { DigestState.hmacSHA256(key: key, message: $0) } }
    }
}

extension SHA256 {
    /// Lower-case hex of bytes (digests in logs, SigV4 canonical requests).
    public static func hex<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        Hex.string(bytes)
    }
}

/// `bytes` as one contiguous buffer: in place when the collection has one (arrays, slices,
/// a String's UTF-8), else copied once.
private func withContiguousBytes<C: Collection, R>(_ bytes: C, _ body: (UnsafeRawBufferPointer) -> R) -> R
where C.Element == UInt8 {
    // SAFETY: the buffers are lent for body's call only, and body (the digest) does not keep them.
    if let result = bytes.withContiguousStorageIfAvailable({ body(UnsafeRawBufferPointer($0)) }) { return result }
    return Array(bytes).withUnsafeBytes(body)
}
