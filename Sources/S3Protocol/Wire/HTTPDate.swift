/// Date formatting and parsing with civil-calendar arithmetic: pure, locale-free and
/// independent of the process time zone.
public enum HTTPDate {
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// Broken-down UTC time.
    public struct Parts: Equatable, Sendable {
        public var year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, weekday: Int
    }

    /// The times every format here writes and `parse` reads back: years 1601 through 9999.
    static let representable: ClosedRange<Int64> = -11_644_473_600...253_402_300_799

    /// Seconds since the epoch → UTC calendar fields (Howard Hinnant's civil_from_days).
    /// Times outside years 1601–9999 are clamped to them: tmpfs stores any Int64 mtime, and
    /// Int64.min used to overflow here and kill the worker.
    public static func parts(_ t: Int64) -> Parts {
        let t = min(max(t, representable.lowerBound), representable.upperBound)
        let days = t >= 0 ? t / 86400 : (t - 86399) / 86400
        let secs = Int(t - days * 86400)
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = Int(doy - (153 * mp + 2) / 5 + 1)
        let m = Int(mp < 10 ? mp + 3 : mp - 9)
        let y = Int(yoe + era * 400) + (m <= 2 ? 1 : 0)
        let wd = Int(((days % 7) + 7) % 7)
        return Parts(year: y, month: m, day: d, hour: secs / 3600, minute: secs % 3600 / 60, second: secs % 60, weekday: wd)
    }

    /// UTC calendar fields → seconds since the epoch (days_from_civil).
    public static func epoch(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = Int64(month > 2 ? month - 3 : month + 9)
        let doy = (153 * mp + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146097 + doe - 719468
        return days * 86400 + Int64(hour * 3600 + minute * 60 + second)
    }

    /// IMF-fixdate for `Last-Modified`: `Wed, 25 Nov 2026 10:00:00 GMT`. Written in place, since it
    /// runs on every GET and HEAD and interpolation or byte arrays are much dearer.
    public static func rfc1123(_ t: Int64) -> String {
        let p = parts(t)
        // SAFETY: exactly 29 bytes are written and counted.
        return String(unsafeUninitializedCapacity: 29) { buffer in
            var b = FixedWidth(buffer)
            b.name("ThuFriSatSunMonTueWed", p.weekday)
            b.text(", ")
            b.digits(p.day, 2)
            b.text(" ")
            b.name("JanFebMarAprMayJunJulAugSepOctNovDec", p.month - 1)
            b.text(" ")
            b.digits(p.year, 4)
            b.text(" ")
            b.time(p)
            b.text(" GMT")
            return b.count
        }
    }

    /// ISO 8601 as S3 listings write it: `2026-11-25T10:00:00.000Z` (once per listed key).
    public static func iso8601(_ t: Int64) -> String {
        // SAFETY: writeISO8601 writes exactly 24 bytes and returns that count.
        String(unsafeUninitializedCapacity: 24) { writeISO8601(t, into: $0) }
    }

    /// The same, appended to a document being built as bytes.
    static func appendISO8601(_ t: Int64, to out: inout [UInt8]) {
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: 24))
        // SAFETY: the array was grown by 24 bytes above, which the rebased slice covers.
        out.withUnsafeMutableBufferPointer { _ = writeISO8601(t, into: UnsafeMutableBufferPointer(rebasing: $0[start...])) }
    }

    private static func writeISO8601(_ t: Int64, into buffer: UnsafeMutableBufferPointer<UInt8>) -> Int {
        let p = parts(t)
        var b = FixedWidth(buffer)
        b.digits(p.year, 4)
        b.text("-")
        b.digits(p.month, 2)
        b.text("-")
        b.digits(p.day, 2)
        b.text("T")
        b.time(p)
        b.text(".000Z")
        return b.count
    }

    /// Writes a fixed-width date: `parts` clamps years to 1601–9999, so every field has a
    /// known number of digits.
    private struct FixedWidth {
        // SAFETY: a buffer lent by String(unsafeUninitializedCapacity:) for the duration of the writer's use.
        let buffer: UnsafeMutableBufferPointer<UInt8>
        var count = 0

        init(_ buffer: UnsafeMutableBufferPointer<UInt8>) { self.buffer = buffer }

        mutating func text(_ s: StaticString) {
            for i in 0..<s.utf8CodeUnitCount { buffer[count + i] = s.utf8Start[i] }
            count += s.utf8CodeUnitCount
        }

        /// The `index`th three-letter name of `names`.
        mutating func name(_ names: StaticString, _ index: Int) {
            for i in 0..<3 { buffer[count + i] = names.utf8Start[3 * index + i] }
            count += 3
        }

        /// `n` (0 ≤ n < 10^width) in decimal, zero-padded to `width`.
        mutating func digits(_ n: Int, _ width: Int) {
            var v = n
            for i in stride(from: count + width - 1, through: count, by: -1) {
                buffer[i] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
            }
            count += width
        }

        /// `hh:mm:ss`.
        mutating func time(_ p: Parts) {
            digits(p.hour, 2)
            text(":")
            digits(p.minute, 2)
            text(":")
            digits(p.second, 2)
        }
    }

    /// Parses the three HTTP-date forms RFC 9110 requires recipients to accept; nil otherwise.
    public static func parse(_ text: String) -> Int64? {
        let tokens = text.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" })
        func month(_ s: Substring) -> Int? { months.firstIndex { $0.lowercased() == s.lowercased() }.map { $0 + 1 } }
        func clock(_ s: Substring) -> (Int, Int, Int)? {
            let f = s.split(separator: ":")
            guard f.count == 3, let h = Int(f[0]), let m = Int(f[1]), let sec = Int(f[2]),
                  (0...23).contains(h), (0...59).contains(m), (0...60).contains(sec) else { return nil }
            return (h, m, sec)
        }
        func valid(_ y: Int, _ mo: Int, _ d: Int) -> Bool { y >= 1601 && y <= 9999 && (1...31).contains(d) && (1...12).contains(mo) }
        // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
        if tokens.count == 6, tokens[5] == "GMT", let d = Int(tokens[1]), let mo = month(tokens[2]),
           let y = Int(tokens[3]), tokens[3].count == 4, let c = clock(tokens[4]), valid(y, mo, d) {
            return epoch(year: y, month: mo, day: d, hour: c.0, minute: c.1, second: c.2)
        }
        // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
        if tokens.count == 4, tokens[3] == "GMT" {
            let dmy = tokens[1].split(separator: "-")
            if dmy.count == 3, let d = Int(dmy[0]), let mo = month(dmy[1]), let yy = Int(dmy[2]), let c = clock(tokens[2]) {
                let y = dmy[2].count == 2 ? (yy < 70 ? 2000 + yy : 1900 + yy) : yy
                if valid(y, mo, d) { return epoch(year: y, month: mo, day: d, hour: c.0, minute: c.1, second: c.2) }
            }
        }
        // asctime: Sun Nov  6 08:49:37 1994
        if tokens.count == 5, let mo = month(tokens[1]), let d = Int(tokens[2]), let c = clock(tokens[3]),
           let y = Int(tokens[4]), valid(y, mo, d) {
            return epoch(year: y, month: mo, day: d, hour: c.0, minute: c.1, second: c.2)
        }
        return nil
    }
}
