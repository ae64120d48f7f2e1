internal import COpenSSL
internal import Glibc

/// A wall-clock instant with one-second resolution, in UTC: the precision of X.509 and CRL times.
///
/// The PKI target stays free of Foundation (as the rest of Outpost does); this is the value
/// certificates, CRLs, policy and the store exchange. It prints and parses as RFC 3339 / ISO 8601
/// (`2026-01-01T00:00:00Z`).
public struct PKITime: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Seconds since 1970-01-01T00:00:00Z (negative before).
    public var secondsSince1970: Int64

    public init(secondsSince1970: Int64) {
        self.secondsSince1970 = secondsSince1970
    }

    /// A calendar date and time in UTC; `nil` when a field is out of range.
    public init?(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) {
        guard (1...9999).contains(year), (1...12).contains(month), (1...31).contains(day),
              (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second)
        else { return nil }
        var fields = tm()
        fields.tm_year = Int32(year - 1900)
        fields.tm_mon = Int32(month - 1)
        fields.tm_mday = Int32(day)
        fields.tm_hour = Int32(hour)
        fields.tm_min = Int32(minute)
        fields.tm_sec = Int32(second)
        let seconds = Int64(timegm(&fields))
        let candidate = PKITime(secondsSince1970: seconds)
        // timegm normalises 31 February into March; refuse such dates instead.
        guard candidate.components.day == day, candidate.components.month == month else { return nil }
        self = candidate
    }

    /// Parses `YYYY-MM-DDTHH:MM:SSZ` (the form `description` produces).
    public init?(iso8601 text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count == 20, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
              bytes[10] == UInt8(ascii: "T"), bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
              bytes[19] == UInt8(ascii: "Z")
        else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for byte in bytes[range] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19)
        else { return nil }
        self.init(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
    }

    /// The current time from the system's real-time clock.
    public static var now: PKITime {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return PKITime(secondsSince1970: Int64(spec.tv_sec))
    }

    public func adding(seconds: Int64) -> PKITime {
        PKITime(secondsSince1970: secondsSince1970 + seconds)
    }

    public func adding(days: Int) -> PKITime {
        adding(seconds: Int64(days) * 86_400)
    }

    /// Seconds from `other` to `self` (positive when `self` is later).
    public func seconds(since other: PKITime) -> Int64 {
        secondsSince1970 - other.secondsSince1970
    }

    public static func < (lhs: PKITime, rhs: PKITime) -> Bool {
        lhs.secondsSince1970 < rhs.secondsSince1970
    }

    /// Calendar fields in UTC.
    public var components: (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
        var seconds = time_t(secondsSince1970)
        var fields = tm()
        gmtime_r(&seconds, &fields)
        return (Int(fields.tm_year) + 1900, Int(fields.tm_mon) + 1, Int(fields.tm_mday),
                Int(fields.tm_hour), Int(fields.tm_min), Int(fields.tm_sec))
    }

    /// `2026-01-01T00:00:00Z`.
    public var description: String {
        let c = components
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        var year = "\(c.year)"
        while year.count < 4 { year = "0" + year }
        return "\(year)-\(two(c.month))-\(two(c.day))T\(two(c.hour)):\(two(c.minute)):\(two(c.second))Z"
    }

    /// `2026-01-01`, for tables.
    public var date: String {
        String(description.prefix(10))
    }
}
