import PKI
import SRTP
import Testing

@Suite("SRTP: master keys")
struct SRTPMasterKeyTests {
    @Test(arguments: SRTPSuite.allCases)
    func generatedKeysHaveTheSuitesLengthAndDiffer(suite: SRTPSuite) throws {
        let first = try SRTPMasterKey(suite: suite, randomBytes: SecureRandom.bytes)
        let second = try SRTPMasterKey(suite: suite, randomBytes: SecureRandom.bytes)
        #expect(first.suite == suite)
        #expect(first.bytes.count == suite.keyAndSaltLength)
        #expect(first.masterKey.count == suite.keyLength)
        #expect(first.masterSalt.count == suite.saltLength)
        #expect(Array(first.masterKey) + Array(first.masterSalt) == first.bytes)
        #expect(first.bytes != second.bytes)
        #expect(Set(first.bytes).count > 1)

        // The convenience initializer keys a working session.
        let sender = try SRTPSession(key: first, direction: .outbound)
        let receiver = try SRTPSession(key: first, direction: .inbound, ssrc: 7)
        let rtp = SRTPTests.rtpPacket(sequence: 1, ssrc: 7, payload: [1, 2, 3])
        #expect(try receiver.unprotect(srtp: sender.protect(rtp: rtp)) == rtp)
        let stranger = try SRTPSession(key: second, direction: .inbound)
        let next = SRTPTests.rtpPacket(sequence: 2, ssrc: 7, payload: [1, 2, 3])
        #expect(throws: SRTPError.authenticationFailed) { try stranger.unprotect(srtp: sender.protect(rtp: next)) }
    }

    @Test func lengthIsChecked() throws {
        #expect(throws: SRTPError.badKeyLength(suite: .aeadAES128GCM, expected: 28, actual: 30)) {
            try SRTPMasterKey(suite: .aeadAES128GCM, bytes: [UInt8](repeating: 1, count: 30))
        }
        #expect(throws: SRTPError.badKeyLength(suite: .aesCM128HMACSHA1_32, expected: 30, actual: 16)) {
            try SRTPMasterKey(suite: .aesCM128HMACSHA1_32) { _ in [UInt8](repeating: 1, count: 16) }
        }
        struct Exhausted: Error {}
        #expect(throws: Exhausted.self) { try SRTPMasterKey(suite: .aeadAES256GCM) { _ in throw Exhausted() } }
        let key = try SRTPMasterKey(suite: .aeadAES256GCM, bytes: SRTPTests.key(for: .aeadAES256GCM))
        #expect(key.bytes == SRTPTests.key(for: .aeadAES256GCM))
    }

    /// Logging a key, a value holding one, or dumping it shows the suite and no key material.
    @Test func descriptionsDoNotShowKeyBytes() throws {
        let key = try SRTPMasterKey(suite: .aesCM128HMACSHA1_80, bytes: (0..<30).map { UInt8(0xa0 + $0 % 16) })
        struct Leg { var key: SRTPMasterKey }
        var dumped = ""
        dump(Leg(key: key), to: &dumped)
        for text in ["\(key)", String(describing: key), String(reflecting: key), "\(Leg(key: key))", String(reflecting: Leg(key: key)), dumped] {
            #expect(text.contains("AES_CM_128_HMAC_SHA1_80"), "\(text)")
            #expect(!text.lowercased().contains("a0a1"), "\(text)")
            #expect(!text.contains("160"), "\(text)")
            #expect(!text.contains("bytes"), "\(text)")
        }
    }
}
