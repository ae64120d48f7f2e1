import SRTP
import Testing

/// What a relay's public port receives: forgeries, replays, truncations and noise. Every one is
/// refused with a named error (the relay counts them), none crashes, and the session goes on
/// decrypting good packets afterwards.
@Suite("SRTP: hostile input")
struct SRTPHostileInputTests {
    static let ssrc: UInt32 = 0xfee1_600d

    static func sessions(_ suite: SRTPSuite) throws -> (sender: SRTPSession, receiver: SRTPSession) {
        let key = SRTPTests.key(for: suite)
        return (
            try SRTPSession(suite: suite, masterKeyAndSalt: key, direction: .outbound),
            try SRTPSession(suite: suite, masterKeyAndSalt: key, direction: .inbound)
        )
    }

    /// One flipped bit anywhere in a small SRTP packet. Bits libsrtp reads before the tag check
    /// may be refused earlier: the CSRC count and X bit (a header longer than the packet) and the
    /// sequence number (an index already seen or behind the window).
    @Test(arguments: SRTPSuite.allCases)
    func everyFlippedBitIsRefusedAndTheSessionRecovers(suite: SRTPSuite) throws {
        let (sender, receiver) = try Self.sessions(suite)
        var sequence: UInt16 = 1_000
        let length = 12 + 4 + suite.rtpTagLength
        for position in 0..<length * 8 {
            var forged = try sender.protect(rtp: SRTPTests.rtpPacket(sequence: sequence, ssrc: Self.ssrc, payload: [1, 2, 3, 4]))
            #expect(forged.count == length)
            forged[position / 8] ^= 1 << (position % 8)
            let byte = position / 8
            do throws(SRTPError) {
                _ = try receiver.unprotect(srtp: forged)
                Issue.record("bit \(position) flipped was accepted")
            } catch .authenticationFailed {
            } catch .badParameter where byte == 0, .parseError where byte == 0 {
            } catch .replayed where byte == 2 || byte == 3, .replayTooOld where byte == 2 || byte == 3 {
            } catch {
                Issue.record("bit \(position) flipped: \(error)")
            }
            let good = SRTPTests.rtpPacket(sequence: sequence + 1, ssrc: Self.ssrc, payload: [5, 6, 7, 8])
            #expect(try receiver.unprotect(srtp: sender.protect(rtp: good)) == good)
            sequence += 2
        }
    }

    @Test(arguments: SRTPSuite.allCases)
    func everyFlippedBitOfSRTCPIsRefused(suite: SRTPSuite) throws {
        let (sender, receiver) = try Self.sessions(suite)
        let rtcp = SRTPTests.rtcpPacket(ssrc: Self.ssrc)
        let length = rtcp.count + 4 + suite.rtcpTagLength
        let isGCM = suite.rtcpTagLength == 16
        // E flag and index: after the tag with GCM, before it with AES_CM.
        let trailer = isGCM ? length - 4 : rtcp.count
        for position in 0..<length * 8 {
            var forged = try sender.protect(rtcp: rtcp)
            forged[position / 8] ^= 1 << (position % 8)
            let byte = position / 8
            let isEFlag = byte == trailer && position % 8 == 7
            do throws(SRTPError) {
                _ = try receiver.unprotect(srtcp: forged)
                Issue.record("bit \(position) flipped was accepted")
            } catch .authenticationFailed {
            } catch .cannotCheck where isEFlag && !isGCM {
            } catch .replayed where (trailer..<trailer + 4).contains(byte), .replayTooOld where (trailer..<trailer + 4).contains(byte) {
            } catch {
                Issue.record("bit \(position) flipped: \(error)")
            }
            #expect(try receiver.unprotect(srtcp: sender.protect(rtcp: rtcp)) == rtcp)
        }
    }

    @Test(arguments: SRTPSuite.allCases)
    func replayedAndTooOld(suite: SRTPSuite) throws {
        let (sender, receiver) = try Self.sessions(suite)
        let first = try sender.protect(rtp: SRTPTests.rtpPacket(sequence: 10, ssrc: Self.ssrc, payload: [0]))
        _ = try receiver.unprotect(srtp: first)
        #expect(throws: SRTPError.replayed) { try receiver.unprotect(srtp: first) }
        // The sender refuses to protect an index twice: it would reuse the keystream (or GCM nonce).
        #expect(throws: SRTPError.replayed) { try sender.protect(rtp: SRTPTests.rtpPacket(sequence: 10, ssrc: Self.ssrc, payload: [1])) }
        let skipped = try sender.protect(rtp: SRTPTests.rtpPacket(sequence: 11, ssrc: Self.ssrc, payload: [0]))
        for sequence in UInt16(12)...UInt16(200) {
            _ = try receiver.unprotect(srtp: sender.protect(rtp: SRTPTests.rtpPacket(sequence: sequence, ssrc: Self.ssrc, payload: [0])))
        }
        // 189 packets later, beyond the 128-packet window: too old, never seen or not.
        #expect(throws: SRTPError.replayTooOld) { try receiver.unprotect(srtp: skipped) }
        #expect(throws: SRTPError.replayTooOld) { try receiver.unprotect(srtp: first) }

        let srtcp = try sender.protect(rtcp: SRTPTests.rtcpPacket(ssrc: Self.ssrc))
        _ = try receiver.unprotect(srtcp: srtcp)
        #expect(throws: SRTPError.replayed) { try receiver.unprotect(srtcp: srtcp) }
        var badTag = try sender.protect(rtcp: SRTPTests.rtcpPacket(ssrc: Self.ssrc))
        badTag[badTag.count - 1] ^= 0x40
        #expect(throws: SRTPError.authenticationFailed) { try receiver.unprotect(srtcp: badTag) }
    }

    /// Every truncation of a good packet, from nothing to one byte short: too short for a header
    /// and tag, or a tag that does not verify. Then the whole packet still decrypts.
    @Test(arguments: SRTPSuite.allCases)
    func everyTruncation(suite: SRTPSuite) throws {
        let (sender, receiver) = try Self.sessions(suite)
        let rtp = SRTPTests.rtpPacket(sequence: 77, ssrc: Self.ssrc, payload: [UInt8](repeating: 3, count: 40))
        let rtcp = SRTPTests.rtcpPacket(ssrc: Self.ssrc) + [UInt8](repeating: 4, count: 20)
        let packets: [(plain: [UInt8], packet: [UInt8], minimum: Int, unprotect: (UnsafeMutableRawBufferPointer, Int) throws(SRTPError) -> Int)] = [
            (rtp, try sender.protect(rtp: rtp), 12 + suite.rtpTagLength, receiver.unprotectRTP(in:length:)),
            (rtcp, try sender.protect(rtcp: rtcp), 8 + 4 + suite.rtcpTagLength, receiver.unprotectRTCP(in:length:)),
        ]
        for (plain, packet, minimum, unprotect) in packets {
            for length in 0..<packet.count {
                var buffer = packet
                let result = buffer.withUnsafeMutableBytes { raw in Result { () throws(SRTPError) in try unprotect(raw, length) } }
                switch result {
                case .failure(.packetTooShort(length, minimum)) where length < minimum: break
                case .failure(.authenticationFailed) where length >= minimum: break
                // AES_CM SRTCP: whatever byte now sits where the E flag was read says "clear".
                case .failure(.cannotCheck) where length >= minimum && plain == rtcp && suite.rtcpTagLength == 10: break
                default: Issue.record("\(length) of \(packet.count) bytes: \(result)")
                }
            }
            var buffer = packet
            let length = try buffer.withUnsafeMutableBytes { try unprotect($0, packet.count) }
            #expect(Array(buffer.prefix(length)) == plain)
        }
    }

    /// Plain RTP where SRTP was negotiated: its last bytes are taken as a tag, which fails. This
    /// is the error a relay counts for a phone that sends in clear.
    @Test(arguments: SRTPSuite.allCases)
    func plainRTPIsNotAuthentic(suite: SRTPSuite) throws {
        let (_, receiver) = try Self.sessions(suite)
        let voice = SRTPTests.rtpPacket(sequence: 5, ssrc: Self.ssrc, payload: [UInt8](repeating: 0xff, count: 160))
        #expect(throws: SRTPError.authenticationFailed) { try receiver.unprotect(srtp: voice) }
        // Plain RTCP: where SRTCP's E flag would be, a 0 bit. AES_CM refuses that before the tag
        // (the session encrypts SRTCP); GCM follows the flag and fails the tag.
        let report = SRTPTests.rtcpPacket(ssrc: Self.ssrc) + [UInt8](repeating: 0, count: 40)
        #expect(throws: suite.rtcpTagLength == 16 ? SRTPError.authenticationFailed : .cannotCheck) {
            try receiver.unprotect(srtcp: report)
        }
    }

    /// Seeded noise, RTP-looking and not, of every short length and some long ones: always an
    /// error, never a crash, and the session still works afterwards.
    @Test(arguments: SRTPSuite.allCases)
    func randomBytesNeverCrash(suite: SRTPSuite) throws {
        let (sender, receiver) = try Self.sessions(suite)
        var random = SplitMix64(seed: 0x5eed ^ UInt64(suite.keyAndSaltLength))
        var storage = [UInt8](repeating: 0, count: 1600)
        for round in 0..<4_000 {
            let length = round < 400 ? round % 200 : Int(random.next() % 1500)
            for index in 0..<length { storage[index] = UInt8(truncatingIfNeeded: random.next()) }
            if round % 2 == 0, length > 0 { storage[0] = 0x80 | (storage[0] & 0x3f) }
            let rtcp = round % 3 == 0
            let result = storage.withUnsafeMutableBytes { raw in
                Result { () throws(SRTPError) in
                    try rtcp ? receiver.unprotectRTCP(in: raw, length: length) : receiver.unprotectRTP(in: raw, length: length)
                }
            }
            if case .success = result { Issue.record("round \(round): \(length) random bytes were accepted") }
        }
        let good = SRTPTests.rtpPacket(sequence: 1, ssrc: Self.ssrc, payload: [9])
        #expect(try receiver.unprotect(srtp: sender.protect(rtp: good)) == good)
    }
}

/// A small seeded generator (Vigna's SplitMix64), so that the noise is the same every run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
