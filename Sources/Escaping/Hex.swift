/// Hexadecimal digits, written in one place: digests (lower case), percent escapes (upper
/// case), JSON `\u` escapes and ETags (a number's digits).
public enum Hex {
    /// The ASCII digit for the low four bits of `value`.
    @inlinable
    public static func digit<T: BinaryInteger>(_ value: T, uppercase: Bool = false) -> UInt8 {
        let nibble = UInt8(truncatingIfNeeded: value) & 0x0F
        return nibble < 10 ? UInt8(ascii: "0") + nibble : (uppercase ? UInt8(ascii: "A") : UInt8(ascii: "a")) + nibble - 10
    }

    /// The lower-case digits by value: a table lookup has no branch to mispredict on a
    /// digest's random nibbles.
    public static let lowerDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Two digits per byte, lower case by default (`[0x0f, 0xa0]` is `0fa0`).
    @inlinable
    public static func string<C: Collection<UInt8>>(_ bytes: C, uppercase: Bool = false) -> String {
        // SAFETY: exactly bytes.count * 2 bytes are written, within the capacity asked for, and that count is
        //  returned.
        String(unsafeUninitializedCapacity: bytes.count * 2) { out in
            var i = 0
            for b in bytes {
                out[i] = digit(b >> 4, uppercase: uppercase)
                out[i + 1] = digit(b, uppercase: uppercase)
                i += 2
            }
            return i
        }
    }

    /// How many digits `value` takes without leading zeros (at least one).
    @inlinable
    public static func digitCount(_ value: UInt64) -> Int { max(1, (67 - value.leadingZeroBitCount) / 4) }

    /// The low `digits` digits of `value`, most significant first, into `out` from `start`.
    @inlinable
    public static func write(
        _ value: UInt64, digits: Int, uppercase: Bool = false, into out: UnsafeMutableBufferPointer<UInt8>, at start: Int
    ) {
        var v = value
        for i in stride(from: start + digits - 1, through: start, by: -1) {
            out[i] = digit(v, uppercase: uppercase)
            v >>= 4
        }
    }

    /// The low `digits` digits of `value`, most significant first, appended to `out`.
    @inlinable
    public static func append(_ value: UInt64, digits: Int, uppercase: Bool = false, to out: inout [UInt8]) {
        for shift in stride(from: 4 * (digits - 1), through: 0, by: -4) {
            out.append(digit(value >> UInt64(shift), uppercase: uppercase))
        }
    }
}
