import Testing

@testable import RTP

@Suite("Telephone events (RFC 4733)")
struct TelephoneEventTests {
    /// The §2.3 layout for the end of digit 9 at −10 dBm0 after 1000 timestamp units (125 ms at
    /// 8 kHz): event 9, E=1 R=0 volume 10, duration 0x03E8.
    static let digitNineEnd: [UInt8] = [0x09, 0x8A, 0x03, 0xE8]

    @Test func parseAndSerialize() throws {
        let event = try withRaw(Self.digitNineEnd) { raw throws(RTPParseError) in try TelephoneEvent(parsing: raw) }
        #expect(event == TelephoneEvent(event: 9, isEnd: true, volume: 10, duration: 1000))
        #expect(event.digit == .nine)
        #expect(event.serialized() == Self.digitNineEnd)
        var buffer = [UInt8](repeating: 0xEE, count: 6)
        buffer.withUnsafeMutableBytes { event.write(into: $0) }
        #expect(buffer == Self.digitNineEnd + [0xEE, 0xEE])
    }

    @Test("the reserved R bit is ignored and written as 0; volume keeps 6 bits")
    func reservedBit() throws {
        let event = try withRaw([0x05, 0x7F, 0x00, 0xA0]) { raw throws(RTPParseError) in try TelephoneEvent(parsing: raw) }
        #expect(event == TelephoneEvent(event: 5, isEnd: false, volume: 63, duration: 160))
        #expect(event.serialized() == [0x05, 0x3F, 0x00, 0xA0])
        #expect(TelephoneEvent(event: 1, volume: 0xFF, duration: 1).serialized()[1] == 0x3F)
    }

    @Test("several events in one payload (§2.5.1.5), and lengths that are not whole events")
    func multipleEvents() throws {
        let payload = Self.digitNineEnd + [0x0B, 0x0A, 0x00, 0xA0]
        let events = try withRaw(payload) { raw throws(RTPParseError) in try TelephoneEvent.events(in: raw) }
        #expect(events.map(\.digit) == [.nine, .pound])
        #expect(events.flatMap { $0.serialized() } == payload)
        for length in [0, 1, 3, 5, 7] {
            #expect(throws: RTPParseError.telephoneEventLength(length)) {
                try withRaw(Array(payload.prefix(length))) { raw throws(RTPParseError) in try TelephoneEvent.events(in: raw) }
            }
        }
        #expect(throws: RTPParseError.telephoneEventLength(8)) {
            try withRaw(payload) { raw throws(RTPParseError) in try TelephoneEvent(parsing: raw) }
        }
    }

    @Test("digits map to dial-string characters and back")
    func characters() {
        let all = TelephoneEvent.Digit.allCases.compactMap(\.character)
        #expect(String(all) == "0123456789*#ABCD")
        #expect(TelephoneEvent.Digit.flash.character == nil)
        #expect(TelephoneEvent.Digit.flash.rawValue == 16)
        for digit in TelephoneEvent.Digit.allCases {
            guard let character = digit.character else { continue }
            #expect(TelephoneEvent.Digit(character: character) == digit)
        }
        #expect(TelephoneEvent.Digit(character: "b") == .b)
        #expect(TelephoneEvent.Digit(character: "E") == nil)
        #expect(TelephoneEvent(event: 17, duration: 0).digit == nil)
    }
}
