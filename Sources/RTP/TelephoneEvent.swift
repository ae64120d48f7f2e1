/// One RFC 4733 §2.3 telephone-event payload (a DTMF digit, flash, or another named event):
///
///      0                   1                   2                   3
///     |     event     |E|R| volume    |          duration             |
public struct TelephoneEvent: Equatable, Hashable, Sendable {
    public var event: UInt8
    /// The E bit: the last packet(s) of this event, which carry its final duration.
    public var isEnd: Bool
    /// Power level in −dBm0, 0…63; serialization keeps the low 6 bits.
    public var volume: UInt8
    /// In timestamp units, since the event began (the RTP timestamp of its packets).
    public var duration: UInt16

    public static let encodedLength = 4

    public init(event: UInt8, isEnd: Bool = false, volume: UInt8 = 10, duration: UInt16) {
        self.event = event
        self.isEnd = isEnd
        self.volume = volume
        self.duration = duration
    }

    public init(digit: Digit, isEnd: Bool = false, volume: UInt8 = 10, duration: UInt16) {
        self.init(event: digit.rawValue, isEnd: isEnd, volume: volume, duration: duration)
    }

    /// Exactly one event (4 bytes). The R bit is reserved: ignored here, written as 0.
    public init(parsing payload: UnsafeRawBufferPointer) throws(RTPParseError) {
        guard payload.count == Self.encodedLength else { throw .telephoneEventLength(payload.count) }
        self.init(payload, at: 0)
    }

    init(_ payload: UnsafeRawBufferPointer, at offset: Int) {
        self.init(
            event: payload[offset], isEnd: payload[offset + 1] & 0x80 != 0, volume: payload[offset + 1] & 0x3F,
            duration: payload.uint16(at: offset + 2))
    }

    /// Every event of a payload. RFC 4733 §2.5.1.5 lets a packet carry several events back to
    /// back (redundancy for the end of one and the start of the next share a packet, §2.5.1.4).
    public static func events(in payload: UnsafeRawBufferPointer) throws(RTPParseError) -> [TelephoneEvent] {
        guard !payload.isEmpty, payload.count % encodedLength == 0 else { throw .telephoneEventLength(payload.count) }
        var events: [TelephoneEvent] = []
        events.reserveCapacity(payload.count / encodedLength)
        for offset in stride(from: 0, to: payload.count, by: encodedLength) {
            events.append(TelephoneEvent(payload, at: offset))
        }
        return events
    }

    public func serialized() -> [UInt8] {
        [event, (isEnd ? 0x80 : 0) | (volume & 0x3F), UInt8(duration >> 8), UInt8(duration & 0xFF)]
    }

    /// Writes the 4 bytes at the start of `buffer`, which must hold them; for a sender that builds
    /// packets in place.
    public func write(into buffer: UnsafeMutableRawBufferPointer) {
        precondition(buffer.count >= Self.encodedLength, "a telephone event takes 4 bytes")
        buffer[0] = event
        buffer[1] = (isEnd ? 0x80 : 0) | (volume & 0x3F)
        buffer.store(duration, at: 2)
    }

    /// The DTMF events of RFC 4733 §3.2 (table 1), with flash.
    public enum Digit: UInt8, Sendable, Hashable, CaseIterable {
        case zero = 0, one, two, three, four, five, six, seven, eight, nine
        case star = 10, pound = 11
        case a = 12, b, c, d
        case flash = 16

        /// The key's character as in a dial string; nil for flash, which has none.
        public var character: Character? {
            switch self {
            case .star: "*"
            case .pound: "#"
            case .a, .b, .c, .d: Character(Unicode.Scalar(UInt8(ascii: "A") + rawValue - 12))
            case .flash: nil
            default: Character(Unicode.Scalar(UInt8(ascii: "0") + rawValue))
            }
        }

        /// The digit for a dial-string character; lowercase a–d too.
        public init?(character: Character) {
            guard let ascii = character.asciiValue else { return nil }
            switch ascii {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): self.init(rawValue: ascii - UInt8(ascii: "0"))
            case UInt8(ascii: "*"): self = .star
            case UInt8(ascii: "#"): self = .pound
            case UInt8(ascii: "A")...UInt8(ascii: "D"): self.init(rawValue: ascii - UInt8(ascii: "A") + 12)
            case UInt8(ascii: "a")...UInt8(ascii: "d"): self.init(rawValue: ascii - UInt8(ascii: "a") + 12)
            default: return nil
            }
        }
    }

    /// The event as a DTMF digit or flash, nil for other events (tones, line events).
    public var digit: Digit? { Digit(rawValue: event) }
}
