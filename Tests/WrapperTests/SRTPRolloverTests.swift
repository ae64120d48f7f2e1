import SRTP
import Testing

/// The rollover counter (RFC 3711 §3.3.1) across the 16-bit sequence wrap, and carried into a new
/// session as a relay must across a re-INVITE that keeps key and SSRC (RFC 4568 §7.1.4).
@Suite("SRTP: rollover counter")
struct SRTPRolloverTests {
    static let suite = SRTPSuite.aesCM128HMACSHA1_80
    static let ssrc: UInt32 = 0x5eed_0001
    static let payload = [UInt8](repeating: 0xd5, count: 160)

    /// Protects and unprotects packets `sequences` in one buffer; returns the last SRTP packet.
    @discardableResult
    static func stream(
        _ sequences: some Sequence<UInt16>, from sender: SRTPSession, to receiver: SRTPSession
    ) throws -> [UInt8] {
        var storage = [UInt8](repeating: 0, count: 12 + payload.count + SRTPSession.maximumTrailerLength)
        var last: [UInt8] = []
        try storage.withUnsafeMutableBytes { buffer in
            for sequence in sequences {
                let rtp = SRTPTests.rtpPacket(sequence: sequence, ssrc: ssrc, payload: payload)
                buffer.copyBytes(from: rtp)
                let length = try sender.protectRTP(in: buffer, length: rtp.count)
                last = Array(buffer[..<length])
                let plain = try receiver.unprotectRTP(in: buffer, length: length)
                guard plain == rtp.count, buffer[2] == rtp[2], buffer[3] == rtp[3], buffer[12] == payload[0] else {
                    Issue.record("packet \(sequence) did not come back")
                    return
                }
            }
        }
        return last
    }

    static func sequences(from start: UInt16, count: Int) -> some Sequence<UInt16> {
        (0..<count).lazy.map { start &+ UInt16(truncatingIfNeeded: $0) }
    }

    @Test func seventyThousandPacketsAcrossTheWrapThenHoldAndResume() throws {
        let key = SRTPTests.key(for: Self.suite)
        let sender = try SRTPSession(suite: Self.suite, masterKeyAndSalt: key, direction: .outbound)
        let receiver = try SRTPSession(suite: Self.suite, masterKeyAndSalt: key, direction: .inbound)
        // 60000 … 65535, 0 … 64463: 70,000 packets, one wrap.
        try Self.stream(Self.sequences(from: 60_000, count: 70_000), from: sender, to: receiver)
        #expect(try sender.rolloverCounter(ssrc: Self.ssrc) == 1)
        #expect(try receiver.rolloverCounter(ssrc: Self.ssrc) == 1)
        let next: UInt16 = 60_000 &+ UInt16(truncatingIfNeeded: 70_000)

        // Hold, then resume with the same key and SSRC. The sender keeps going where it was.
        let continuing = try sender.protect(rtp: SRTPTests.rtpPacket(sequence: next, ssrc: Self.ssrc, payload: Self.payload))

        // A fresh session that does not know the ROC judges the packet with ROC 0: the tag fails.
        let forgetful = try SRTPSession(suite: Self.suite, masterKeyAndSalt: key, direction: .inbound, ssrc: Self.ssrc)
        #expect(throws: SRTPError.authenticationFailed) { try forgetful.unprotect(srtp: continuing) }
        let anySSRC = try SRTPSession(suite: Self.suite, masterKeyAndSalt: key, direction: .inbound)
        #expect(throws: SRTPError.authenticationFailed) { try anySSRC.unprotect(srtp: continuing) }

        // The relay's way: a session for that SSRC, given the old session's ROC before traffic.
        let resumed = try SRTPSession(suite: Self.suite, masterKeyAndSalt: key, direction: .inbound, ssrc: Self.ssrc)
        try resumed.setRolloverCounter(try receiver.rolloverCounter(ssrc: Self.ssrc), ssrc: Self.ssrc)
        #expect(try resumed.unprotect(srtp: continuing) == SRTPTests.rtpPacket(sequence: next, ssrc: Self.ssrc, payload: Self.payload))

        // The outbound side resumes the same way, and the stream crosses the next wrap too.
        let resumedSender = try SRTPSession(suite: Self.suite, masterKeyAndSalt: key, direction: .outbound, ssrc: Self.ssrc)
        try resumedSender.setRolloverCounter(try sender.rolloverCounter(ssrc: Self.ssrc), ssrc: Self.ssrc)
        try Self.stream(Self.sequences(from: next &+ 1, count: 1_200), from: resumedSender, to: resumed)
        #expect(try resumedSender.rolloverCounter(ssrc: Self.ssrc) == 2)
        #expect(try resumed.rolloverCounter(ssrc: Self.ssrc) == 2)
    }

    /// libsrtp's `ssrc_any_inbound` template has no stream before the first packet, so it has no
    /// ROC to set; and that first packet is judged with ROC 0.
    @Test func anySSRCSessionCannotTakeARolloverCounterBeforeTraffic() throws {
        let key = SRTPTests.key(for: Self.suite)
        let inbound = try SRTPSession(suite: Self.suite, masterKeyAndSalt: key, direction: .inbound)
        #expect(throws: SRTPError.unknownSSRC(Self.ssrc)) { try inbound.setRolloverCounter(1, ssrc: Self.ssrc) }
        let outbound = try SRTPSession(suite: Self.suite, masterKeyAndSalt: key, direction: .outbound)
        #expect(throws: SRTPError.unknownSSRC(Self.ssrc)) { try outbound.setRolloverCounter(1, ssrc: Self.ssrc) }
    }

    /// libsrtp holds a set ROC as pending until the next packet; reading it back before then gives
    /// the stream's previous counter.
    @Test func setRolloverCounterTakesEffectWithTheNextPacket() throws {
        let key = SRTPTests.key(for: Self.suite)
        let sender = try SRTPSession(suite: Self.suite, masterKeyAndSalt: key, direction: .outbound, ssrc: Self.ssrc)
        let receiver = try SRTPSession(suite: Self.suite, masterKeyAndSalt: key, direction: .inbound, ssrc: Self.ssrc)
        try sender.setRolloverCounter(7, ssrc: Self.ssrc)
        try receiver.setRolloverCounter(7, ssrc: Self.ssrc)
        #expect(try sender.rolloverCounter(ssrc: Self.ssrc) == 0)
        #expect(try receiver.rolloverCounter(ssrc: Self.ssrc) == 0)
        try Self.stream([UInt16(4)], from: sender, to: receiver)
        #expect(try sender.rolloverCounter(ssrc: Self.ssrc) == 7)
        #expect(try receiver.rolloverCounter(ssrc: Self.ssrc) == 7)
    }

    /// Reordering across the wrap: 0 before 65535 still decrypts, each once.
    @Test(arguments: SRTPSuite.allCases)
    func reorderingAcrossTheWrap(suite: SRTPSuite) throws {
        let key = SRTPTests.key(for: suite)
        let sender = try SRTPSession(suite: suite, masterKeyAndSalt: key, direction: .outbound)
        let receiver = try SRTPSession(suite: suite, masterKeyAndSalt: key, direction: .inbound)
        let packets = try [UInt16(65_533), 65_534, 65_535, 0, 1, 2].map {
            try sender.protect(rtp: SRTPTests.rtpPacket(sequence: $0, ssrc: Self.ssrc, payload: [UInt8($0 & 0xff)]))
        }
        for index in [0, 1, 3, 2, 5, 4] {
            #expect(try receiver.unprotect(srtp: packets[index]).count == 13)
        }
        #expect(throws: SRTPError.replayed) { try receiver.unprotect(srtp: packets[2]) }
        #expect(try receiver.rolloverCounter(ssrc: Self.ssrc) == 1)
    }
}
