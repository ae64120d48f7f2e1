import SRTP
import Testing

/// The relay's API: protect and unprotect in one buffer, with the lengths libsrtp reports.
@Suite("SRTP: in place over the caller's buffer")
struct SRTPInPlaceTests {
    static let ssrc: UInt32 = 0x0bad_cafe

    @Test(arguments: SRTPSuite.allCases)
    func rtpRoundTripInOneBuffer(suite: SRTPSuite) throws {
        let key = SRTPTests.key(for: suite)
        let sender = try SRTPSession(suite: suite, masterKeyAndSalt: key, direction: .outbound)
        let receiver = try SRTPSession(suite: suite, masterKeyAndSalt: key, direction: .inbound)
        let reference = try SRTPSession(suite: suite, masterKeyAndSalt: key, direction: .outbound)
        var storage = [UInt8](repeating: 0xee, count: 1500)
        for sequence in UInt16(100)..<UInt16(110) {
            let rtp = SRTPTests.rtpPacket(sequence: sequence, ssrc: Self.ssrc, payload: (0..<160).map { UInt8(truncatingIfNeeded: $0) })
            let copied = try reference.protect(rtp: rtp)
            try storage.withUnsafeMutableBytes { buffer in
                buffer.copyBytes(from: rtp)
                let protectedLength = try sender.protectRTP(in: buffer, length: rtp.count)
                #expect(protectedLength == rtp.count + suite.rtpTagLength)
                #expect(Array(buffer[..<protectedLength]) == copied)
                let plainLength = try receiver.unprotectRTP(in: buffer, length: protectedLength)
                #expect(plainLength == rtp.count)
                #expect(Array(buffer[..<plainLength]) == rtp)
            }
        }
    }

    @Test(arguments: SRTPSuite.allCases)
    func rtcpRoundTripInOneBuffer(suite: SRTPSuite) throws {
        let key = SRTPTests.key(for: suite)
        let sender = try SRTPSession(suite: suite, masterKeyAndSalt: key, direction: .outbound)
        let receiver = try SRTPSession(suite: suite, masterKeyAndSalt: key, direction: .inbound)
        let rtcp = SRTPTests.rtcpPacket(ssrc: Self.ssrc) + [UInt8](repeating: 0x5a, count: 24)
        var storage = [UInt8](repeating: 0, count: rtcp.count + SRTPSession.maximumTrailerLength)
        for index in UInt32(1)...3 {
            try storage.withUnsafeMutableBytes { buffer in
                buffer.copyBytes(from: rtcp)
                let protectedLength = try sender.protectRTCP(in: buffer, length: rtcp.count)
                // E flag and 31-bit SRTCP index, then the tag (80 bits for both AES_CM suites);
                // GCM puts its tag before them, as the last 16 bytes of the AEAD output.
                #expect(protectedLength == rtcp.count + 4 + suite.rtcpTagLength)
                let trailerStart = suite.rtcpTagLength == 16 ? protectedLength - 4 : rtcp.count
                let trailer = Array(buffer[trailerStart..<trailerStart + 4])
                #expect(trailer == ReferenceSRTP.bigEndian(0x8000_0000 | index))
                #expect(Array(buffer[8..<rtcp.count]) != Array(rtcp[8...]))
                let plainLength = try receiver.unprotectRTCP(in: buffer, length: protectedLength)
                #expect(Array(buffer[..<plainLength]) == rtcp)
            }
        }
    }

    @Test func tagLengths() {
        #expect(SRTPSuite.allCases.map(\.rtpTagLength) == [10, 4, 16, 16])
        #expect(SRTPSuite.allCases.map(\.rtcpTagLength) == [10, 10, 16, 16])
        #expect(SRTPSession.maximumTrailerLength >= 16 + 4)
    }

    /// No room after the packet for the tag: refused before libsrtp touches the buffer.
    @Test(arguments: SRTPSuite.allCases)
    func bufferWithoutTrailerRoomIsRefused(suite: SRTPSuite) throws {
        let sender = try SRTPSession(suite: suite, masterKeyAndSalt: SRTPTests.key(for: suite), direction: .outbound)
        let rtp = SRTPTests.rtpPacket(sequence: 1, ssrc: Self.ssrc, payload: [1, 2, 3, 4])
        for room in [0, suite.rtpTagLength, SRTPSession.maximumTrailerLength - 1] {
            var storage = rtp + [UInt8](repeating: 0, count: room)
            storage.withUnsafeMutableBytes { buffer in
                #expect(throws: SRTPError.bufferTooSmall(needed: rtp.count + SRTPSession.maximumTrailerLength, available: rtp.count + room)) {
                    try sender.protectRTP(in: buffer, length: rtp.count)
                }
                #expect(throws: SRTPError.bufferTooSmall(needed: rtp.count + SRTPSession.maximumTrailerLength, available: rtp.count + room)) {
                    try sender.protectRTCP(in: buffer, length: rtp.count)
                }
            }
            #expect(Array(storage.prefix(rtp.count)) == rtp)
        }
    }

    /// A length beyond the buffer, or negative, is refused before libsrtp reads past it.
    @Test func lengthOutsideTheBufferIsRefused() throws {
        let key = SRTPTests.key(for: .aeadAES128GCM)
        let receiver = try SRTPSession(suite: .aeadAES128GCM, masterKeyAndSalt: key, direction: .inbound)
        let sender = try SRTPSession(suite: .aeadAES128GCM, masterKeyAndSalt: key, direction: .outbound)
        var storage = [UInt8](repeating: 0x80, count: 64)
        storage.withUnsafeMutableBytes { buffer in
            #expect(throws: SRTPError.bufferTooSmall(needed: 65, available: 64)) { try receiver.unprotectRTP(in: buffer, length: 65) }
            #expect(throws: SRTPError.bufferTooSmall(needed: 1 << 20, available: 64)) { try receiver.unprotectRTCP(in: buffer, length: 1 << 20) }
            #expect(throws: SRTPError.packetTooShort(length: -1, minimum: 28)) { try receiver.unprotectRTP(in: buffer, length: -1) }
            #expect(throws: SRTPError.packetTooLarge(length: Int(Int32.max) + 1)) { try receiver.unprotectRTP(in: buffer, length: Int(Int32.max) + 1) }
            #expect(throws: SRTPError.bufferTooSmall(needed: 60 + SRTPSession.maximumTrailerLength, available: 64)) {
                try sender.protectRTP(in: buffer, length: 60)
            }
        }
        // An empty buffer has no base address: a short packet, not a crash.
        let empty = UnsafeMutableRawBufferPointer(start: nil, count: 0)
        #expect(throws: SRTPError.packetTooShort(length: 0, minimum: 28)) { try receiver.unprotectRTP(in: empty, length: 0) }
    }
}
