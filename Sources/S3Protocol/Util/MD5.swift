import Escaping
import Hashing

/// MD5 (RFC 1321), incremental, computed by libcrypto. Only for content ETags, which S3
/// clients verify as MD5; never for anything security-related. A value: a copy continues on
/// its own.
// SAFETY: DigestState is mutated only once `unique()` made it this value's own (copy-on-write).
public struct MD5: @unchecked Sendable {
    private var state = DigestState(.md5)

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        unique()
        state.update(bytes)
    }

    // SAFETY: the digest reads the bytes during the call.
    public mutating func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

    /// The 16-byte digest; feed nothing after it.
    public mutating func finalize() -> [UInt8] {
        unique()
        return state.finalize()
    }

    public static func hex(_ bytes: [UInt8]) -> String {
        Hex.string(bytes)
    }

    private mutating func unique() {
        if !isKnownUniquelyReferenced(&state) { state = DigestState(copying: state) }
    }
}
