import SRTP
import Testing

@Suite("SRTP: libsrtp sessions")
struct SRTPTests {
    // MARK: Known answers from libsrtp's own test/srtp_driver.c (srtp_validate, srtp_validate_gcm)

    /// `test_key` in srtp_driver.c: 16-byte master key followed by the 14-byte master salt.
    static let driverKey: [UInt8] = [
        0xe1, 0xf9, 0x7a, 0x0d, 0x3e, 0x01, 0x8b, 0xe0, 0xd6, 0x4f, 0xa3, 0x2c, 0x06, 0xde, 0x41, 0x39,
        0x0e, 0xc6, 0x75, 0xad, 0x49, 0x8a, 0xfe, 0xeb, 0xb6, 0x96, 0x0b, 0x3a, 0xab, 0xe6,
    ]
    /// `srtp_plaintext_ref`: RTP header (seq 0x1234, ts 0xdecafbad, SSRC 0xcafebabe) + 16 × 0xab.
    static let rtpPlaintext: [UInt8] = [
        0x80, 0x0f, 0x12, 0x34, 0xde, 0xca, 0xfb, 0xad, 0xca, 0xfe, 0xba, 0xbe,
    ] + [UInt8](repeating: 0xab, count: 16)
    /// `srtp_ciphertext` for AES_CM_128_HMAC_SHA1_80.
    static let srtpCiphertext: [UInt8] = [
        0x80, 0x0f, 0x12, 0x34, 0xde, 0xca, 0xfb, 0xad, 0xca, 0xfe, 0xba, 0xbe, 0x4e, 0x55, 0xdc, 0x4c,
        0xe7, 0x99, 0x78, 0xd8, 0x8c, 0xa4, 0xd2, 0x15, 0x94, 0x9d, 0x24, 0x02, 0xb7, 0x8d, 0x6a, 0xcc,
        0x99, 0xea, 0x17, 0x9b, 0x8d, 0xbb,
    ]
    /// `rtcp_plaintext_ref`: RTCP SR header (SSRC 0xcafebabe) + 16 × 0xab.
    static let rtcpPlaintext: [UInt8] = [
        0x81, 0xc8, 0x00, 0x0b, 0xca, 0xfe, 0xba, 0xbe,
    ] + [UInt8](repeating: 0xab, count: 16)
    /// `srtcp_ciphertext` for AES_CM_128_HMAC_SHA1_80 (SRTCP index 1 with the E bit).
    static let srtcpCiphertext: [UInt8] = [
        0x81, 0xc8, 0x00, 0x0b, 0xca, 0xfe, 0xba, 0xbe, 0x71, 0x28, 0x03, 0x5b, 0xe4, 0x87, 0xb9, 0xbd,
        0xbe, 0xf8, 0x90, 0x41, 0xf9, 0x77, 0xa5, 0xa8, 0x80, 0x00, 0x00, 0x01, 0x99, 0x3e, 0x08, 0xcd,
        0x54, 0xd6, 0xc1, 0x23, 0x07, 0x98,
    ]
    /// `test_key_gcm` in srtp_driver.c (16-byte key + 12-byte salt).
    static let driverKeyGCM: [UInt8] = [
        0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
        0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab,
    ]
    /// `srtp_ciphertext` of srtp_validate_gcm (AEAD_AES_128_GCM, 16-byte tag).
    static let srtpCiphertextGCM: [UInt8] = [
        0x80, 0x0f, 0x12, 0x34, 0xde, 0xca, 0xfb, 0xad, 0xca, 0xfe, 0xba, 0xbe, 0xc5, 0x00, 0x2e, 0xde,
        0x04, 0xcf, 0xdd, 0x2e, 0xb9, 0x11, 0x59, 0xe0, 0x88, 0x0a, 0xa0, 0x6e, 0xd2, 0x97, 0x68, 0x26,
        0xf7, 0x96, 0xb2, 0x01, 0xdf, 0x31, 0x31, 0xa1, 0x27, 0xe8, 0xa3, 0x92,
    ]

    @Test func aesCM128HMACSHA1_80KnownAnswer() throws {
        let sender = try SRTPSession(suite: .aesCM128HMACSHA1_80, masterKeyAndSalt: Self.driverKey, direction: .outbound)
        #expect(try sender.protect(rtp: Self.rtpPlaintext) == Self.srtpCiphertext)
        #expect(try sender.protect(rtcp: Self.rtcpPlaintext) == Self.srtcpCiphertext)

        let receiver = try SRTPSession(suite: .aesCM128HMACSHA1_80, masterKeyAndSalt: Self.driverKey, direction: .inbound)
        #expect(try receiver.unprotect(srtp: Self.srtpCiphertext) == Self.rtpPlaintext)
        #expect(try receiver.unprotect(srtcp: Self.srtcpCiphertext) == Self.rtcpPlaintext)
    }

    @Test func aeadAES128GCMKnownAnswer() throws {
        let sender = try SRTPSession(suite: .aeadAES128GCM, masterKeyAndSalt: Self.driverKeyGCM, direction: .outbound, ssrc: 0xcafe_babe)
        #expect(try sender.protect(rtp: Self.rtpPlaintext) == Self.srtpCiphertextGCM)
        let receiver = try SRTPSession(suite: .aeadAES128GCM, masterKeyAndSalt: Self.driverKeyGCM, direction: .inbound, ssrc: 0xcafe_babe)
        #expect(try receiver.unprotect(srtp: Self.srtpCiphertextGCM) == Self.rtpPlaintext)
    }

    // MARK: Suites

    @Test func suiteLengthsMatchRFCs() {
        #expect(SRTPSuite.aesCM128HMACSHA1_80.keyAndSaltLength == 30)
        #expect(SRTPSuite.aesCM128HMACSHA1_32.keyAndSaltLength == 30)
        #expect(SRTPSuite.aeadAES128GCM.keyAndSaltLength == 28)
        #expect(SRTPSuite.aeadAES256GCM.keyAndSaltLength == 44)
        #expect(SRTPSuite.aeadAES256GCM.saltLength == 12)
        #expect(SRTPSuite(sdpName: "AES_CM_128_HMAC_SHA1_32") == .aesCM128HMACSHA1_32)
        #expect(SRTPSuite(sdpName: "F8_128_HMAC_SHA1_80") == nil)
        #expect(SRTPLibrary.versionString.contains("2."))
    }

    @Test(arguments: SRTPSuite.allCases)
    func roundTripEverySuite(suite: SRTPSuite) throws {
        let key = Self.key(for: suite)
        let sender = try SRTPSession(suite: suite, masterKeyAndSalt: key, direction: .outbound)
        let receiver = try SRTPSession(suite: suite, masterKeyAndSalt: key, direction: .inbound)
        for sequence in UInt16(1)...UInt16(50) {
            let rtp = Self.rtpPacket(sequence: sequence, ssrc: 0x1122_3344, payload: [UInt8](repeating: UInt8(truncatingIfNeeded: sequence), count: 160))
            let srtp = try sender.protect(rtp: rtp)
            #expect(srtp.count == rtp.count + suite.rtpTagLength)
            #expect(srtp[12...] != rtp[12...])
            #expect(try receiver.unprotect(srtp: srtp) == rtp)
        }
        let rtcp = Self.rtcpPacket(ssrc: 0x1122_3344)
        let srtcp = try sender.protect(rtcp: rtcp)
        #expect(srtcp.count > rtcp.count)
        #expect(try receiver.unprotect(srtcp: srtcp) == rtcp)
    }

    // MARK: Failures as named errors

    @Test(arguments: SRTPSuite.allCases)
    func flippedBitFailsAuthentication(suite: SRTPSuite) throws {
        let key = Self.key(for: suite)
        let sender = try SRTPSession(suite: suite, masterKeyAndSalt: key, direction: .outbound)
        let receiver = try SRTPSession(suite: suite, masterKeyAndSalt: key, direction: .inbound)
        var srtp = try sender.protect(rtp: Self.rtpPacket(sequence: 7, ssrc: 42, payload: Array(repeating: 1, count: 20)))
        srtp[20] ^= 0x01
        #expect(throws: SRTPError.authenticationFailed) { try receiver.unprotect(srtp: srtp) }

        var srtcp = try sender.protect(rtcp: Self.rtcpPacket(ssrc: 42))
        srtcp[10] ^= 0x80
        #expect(throws: SRTPError.authenticationFailed) { try receiver.unprotect(srtcp: srtcp) }
    }

    @Test func samePacketTwiceIsAReplay() throws {
        let key = Self.key(for: .aesCM128HMACSHA1_80)
        let sender = try SRTPSession(suite: .aesCM128HMACSHA1_80, masterKeyAndSalt: key, direction: .outbound)
        let receiver = try SRTPSession(suite: .aesCM128HMACSHA1_80, masterKeyAndSalt: key, direction: .inbound)
        let srtp = try sender.protect(rtp: Self.rtpPacket(sequence: 1000, ssrc: 9, payload: [1, 2, 3]))
        _ = try receiver.unprotect(srtp: srtp)
        #expect(throws: SRTPError.replayed) { try receiver.unprotect(srtp: srtp) }

        // Far behind the 128-packet window: too old rather than a replay.
        var old: [UInt8] = []
        for sequence in UInt16(1)...UInt16(300) {
            let packet = try sender.protect(rtp: Self.rtpPacket(sequence: 1000 + sequence, ssrc: 9, payload: [4]))
            if sequence == 1 { old = packet }
            if sequence > 1 { _ = try receiver.unprotect(srtp: packet) }
        }
        #expect(throws: SRTPError.replayTooOld) { try receiver.unprotect(srtp: old) }
    }

    @Test func wrongKeyLengthIsRefusedBeforeLibsrtp() {
        #expect(throws: SRTPError.badKeyLength(suite: .aesCM128HMACSHA1_80, expected: 30, actual: 29)) {
            try SRTPSession(suite: .aesCM128HMACSHA1_80, masterKeyAndSalt: Array(repeating: 1, count: 29), direction: .outbound)
        }
        #expect(throws: SRTPError.badKeyLength(suite: .aeadAES256GCM, expected: 44, actual: 30)) {
            try SRTPSession(suite: .aeadAES256GCM, masterKeyAndSalt: Array(repeating: 1, count: 30), direction: .inbound)
        }
    }

    @Test func shortPacketsAndWrongDirectionAreRefused() throws {
        let key = Self.key(for: .aesCM128HMACSHA1_32)
        let sender = try SRTPSession(suite: .aesCM128HMACSHA1_32, masterKeyAndSalt: key, direction: .outbound)
        #expect(throws: SRTPError.packetTooShort(length: 11, minimum: 12)) { try sender.protect(rtp: Array(repeating: 0x80, count: 11)) }
        #expect(throws: SRTPError.wrongDirection(.outbound)) { try sender.unprotect(srtp: Self.srtpCiphertext) }
        let receiver = try SRTPSession(suite: .aesCM128HMACSHA1_32, masterKeyAndSalt: key, direction: .inbound)
        #expect(throws: SRTPError.wrongDirection(.inbound)) { try receiver.protect(rtp: Self.rtpPlaintext) }
    }

    @Test func specificSSRCSessionRefusesOtherSSRCs() throws {
        let key = Self.key(for: .aeadAES256GCM)
        let sender = try SRTPSession(suite: .aeadAES256GCM, masterKeyAndSalt: key, direction: .outbound, ssrc: 1)
        #expect(throws: SRTPError.noStreamForSSRC) { try sender.protect(rtp: Self.rtpPacket(sequence: 1, ssrc: 2, payload: [0])) }
        #expect(try sender.protect(rtp: Self.rtpPacket(sequence: 1, ssrc: 1, payload: [0])).count == 13 + 16)
    }

    // MARK: Rollover counter

    @Test func rolloverCounterCanBeReadAndCarriedOver() throws {
        let key = Self.key(for: .aesCM128HMACSHA1_80)
        let ssrc: UInt32 = 0xdead_beef
        let sender = try SRTPSession(suite: .aesCM128HMACSHA1_80, masterKeyAndSalt: key, direction: .outbound)
        let receiver = try SRTPSession(suite: .aesCM128HMACSHA1_80, masterKeyAndSalt: key, direction: .inbound)
        #expect(throws: SRTPError.unknownSSRC(ssrc)) { try sender.rolloverCounter(ssrc: ssrc) }

        // Cross the 16-bit sequence wrap: the ROC goes from 0 to 1 on both sides.
        var lastBeforeWrap: [UInt8] = []
        for sequence in [UInt16(65_533), 65_534, 65_535, 0, 1] {
            let packet = try sender.protect(rtp: Self.rtpPacket(sequence: sequence, ssrc: ssrc, payload: [9, 9]))
            _ = try receiver.unprotect(srtp: packet)
            if sequence == 65_535 { lastBeforeWrap = packet }
        }
        #expect(try sender.rolloverCounter(ssrc: ssrc) == 1)
        #expect(try receiver.rolloverCounter(ssrc: ssrc) == 1)
        #expect(!lastBeforeWrap.isEmpty)

        // A re-INVITE keeps key and SSRC: a fresh sender session without the ROC produces packets
        // the peer cannot authenticate; with the ROC carried over, they verify.
        let next = Self.rtpPacket(sequence: 2, ssrc: ssrc, payload: [7, 7])
        let forgetful = try SRTPSession(suite: .aesCM128HMACSHA1_80, masterKeyAndSalt: key, direction: .outbound, ssrc: ssrc)
        #expect(throws: SRTPError.authenticationFailed) { try receiver.unprotect(srtp: forgetful.protect(rtp: next)) }

        let resumed = try SRTPSession(suite: .aesCM128HMACSHA1_80, masterKeyAndSalt: key, direction: .outbound, ssrc: ssrc)
        try resumed.setRolloverCounter(try sender.rolloverCounter(ssrc: ssrc), ssrc: ssrc)
        #expect(try receiver.unprotect(srtp: resumed.protect(rtp: next)) == next)
        #expect(try resumed.rolloverCounter(ssrc: ssrc) == 1)

        // The receiving side can be resumed the same way.
        let resumedReceiver = try SRTPSession(suite: .aesCM128HMACSHA1_80, masterKeyAndSalt: key, direction: .inbound, ssrc: ssrc)
        try resumedReceiver.setRolloverCounter(1, ssrc: ssrc)
        let third = Self.rtpPacket(sequence: 3, ssrc: ssrc, payload: [5])
        #expect(try resumedReceiver.unprotect(srtp: resumed.protect(rtp: third)) == third)
    }

    // MARK: Helpers

    static func key(for suite: SRTPSuite) -> [UInt8] {
        (0..<suite.keyAndSaltLength).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
    }

    static func rtpPacket(sequence: UInt16, ssrc: UInt32, payload: [UInt8]) -> [UInt8] {
        let timestamp = UInt32(sequence) &* 160
        return [0x80, 0x00, UInt8(sequence >> 8), UInt8(sequence & 0xff)]
            + withUnsafeBytes(of: timestamp.bigEndian, Array.init)
            + withUnsafeBytes(of: ssrc.bigEndian, Array.init)
            + payload
    }

    /// A minimal RTCP receiver report with no report blocks.
    static func rtcpPacket(ssrc: UInt32) -> [UInt8] {
        [0x80, 0xc9, 0x00, 0x01] + withUnsafeBytes(of: ssrc.bigEndian, Array.init)
    }
}

@Suite("SRTP: the OpenSSL primitives libsrtp runs")
struct SRTPPrimitivesTests {
    /// libsrtp accepts a replacement type only after it passes libsrtp's known-answer tests; the
    /// driver vectors above then run through it.
    @Test func libsrtpAcceptedTheOpenSSLTypes() throws {
        try SRTPLibrary.initialize()
        #expect(SRTPLibrary.primitives == .openSSL, "\(SRTPLibrary.primitives)")
    }
}
