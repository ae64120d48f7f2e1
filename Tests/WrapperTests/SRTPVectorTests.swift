import SRTP
import Testing

/// Known answers from the RFCs, through the wrapper where libsrtp lets them through.
///
/// The RFC 7714 §16/§17 vectors are computed from a *session* key and salt, while libsrtp takes
/// only a master key and derives the session keys itself (no API sets them), and there is no
/// master key whose derivation gives a chosen session key. So the RFC bytes are first reproduced
/// exactly by `ReferenceSRTP` (OpenSSL's AES-GCM, with the RFC's IV and AAD layout), and then the
/// wrapper is held to that same reference, fed the session keys the reference derives with RFC 3711
/// §4.3 (itself checked against RFC 3711 B.3 below).
@Suite("SRTP: RFC 3711 and RFC 7714 known answers")
struct SRTPVectorTests {
    // MARK: RFC 7714 §16, §17 (exact bytes from the RFC)

    static let rfc7714Key128 = hex("000102030405060708090a0b0c0d0e0f")
    static let rfc7714Key256 = hex("000102030405060708090a0b0c0d0e0f 101112131415161718191a1b1c1d1e1f")
    /// "Quid pro quo".
    static let rfc7714Salt = hex("517569642070726f2071756f")
    /// §16: SSRC 0x5501a0b2, sequence 0xf17b, ROC 0; "Gallia est omnis divisa in partes tres".
    static let rfc7714RTP = hex(
        """
        8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f 6d6e6973 20646976
        69736120 696e2070 61727465 73207472 6573
        """)
    /// §17: an SR from SSRC "Mars", SRTCP index 0x5d4.
    static let rfc7714RTCP = hex(
        """
        81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61
        deadbeef deadbeef deadbeef deadbeef deadbeef
        """)
    static let rfc7714RTCPIndex: UInt32 = 0x5d4

    /// §16.1.1: AEAD_AES_128_GCM.
    static let rfc7714SRTP128 = hex(
        """
        8040f17b 8041f8d3 5501a0b2 f24de3a3 fb34de6c acba861c 9d7e4bca be633bd5
        0d294e6f 42a5f47a 51c7d19b 36de3adf 8833899d 7f27beb1 6a9152cf 765ee439 0cce
        """)
    /// §16.2.1: AEAD_AES_256_GCM.
    static let rfc7714SRTP256 = hex(
        """
        8040f17b 8041f8d3 5501a0b2 32b1de78 a822fe12 ef9f78fa 332e33aa b1801238
        9a58e2f3 b50b2a02 76ffae0f 1ba63799 b87b7aa3 db36dfff d6b0f9bb 7878d7a7 6c13
        """)
    /// §17.1.1: SRTCP AEAD_AES_128_GCM, encrypted (E = 1).
    static let rfc7714SRTCP128 = hex(
        """
        81c8000d 4d617273 63e94885 dcdab67c a727d766 2f6b7e99 7ff5c0f7 6c06f32d
        c676a5f1 730d6fda 4ce09b46 86303ded 0bb9275b c84aa458 96cf4d2f c5abf872
        45d9eade 800005d4
        """)
    /// §17.2.1: SRTCP AEAD_AES_256_GCM, encrypted.
    static let rfc7714SRTCP256 = hex(
        """
        81c8000d 4d617273 d50ae4d1 f5ce5d30 4ba297e4 7d470c28 2c3ece5d bffe0a50
        a2eaa5c1 110555be 8415f658 c61de047 6f1b6fad 1d1eb30c 4446839f 57ff6f6c
        b26ac3be 800005d4
        """)
    /// §17.3.1: SRTCP AEAD_AES_128_GCM, authenticated only (E = 0).
    static let rfc7714SRTCP128Unencrypted = rfc7714RTCP + hex("841dd968 3dd78ec9 2ae58790 125f62b3 000005d4")
    /// §17.4.1: SRTCP AEAD_AES_256_GCM, authenticated only.
    static let rfc7714SRTCP256Unencrypted = rfc7714RTCP + hex("91db4afb feee5a97 8fab4393 ed2615fe 000005d4")

    /// The reference reproduces every RFC 7714 packet from the session key and salt, and opens it
    /// again; a wrong IV, AAD layout or trailer would change the tag.
    @Test func referenceReproducesRFC7714Exactly() throws {
        let cases: [(key: [UInt8], srtp: [UInt8], srtcp: [UInt8], unencrypted: [UInt8])] = [
            (Self.rfc7714Key128, Self.rfc7714SRTP128, Self.rfc7714SRTCP128, Self.rfc7714SRTCP128Unencrypted),
            (Self.rfc7714Key256, Self.rfc7714SRTP256, Self.rfc7714SRTCP256, Self.rfc7714SRTCP256Unencrypted),
        ]
        // §16: the IV printed in the RFC.
        #expect(
            ReferenceSRTP.gcmRTPIV(sessionSalt: Self.rfc7714Salt, ssrc: 0x5501_a0b2, roc: 0, sequence: 0xf17b)
                == hex("51753c6580c2726f20718414"))
        #expect(
            ReferenceSRTP.gcmRTCPIV(sessionSalt: Self.rfc7714Salt, ssrc: 0x4d61_7273, index: Self.rfc7714RTCPIndex)
                == hex("517524055203726f207170bb"))
        for (key, srtp, srtcp, unencrypted) in cases {
            let salt = Self.rfc7714Salt
            #expect(ReferenceSRTP.gcmProtectRTP(key: key, salt: salt, packet: Self.rfc7714RTP, roc: 0) == srtp)
            #expect(
                ReferenceSRTP.gcmProtectRTCP(key: key, salt: salt, packet: Self.rfc7714RTCP, index: Self.rfc7714RTCPIndex, encrypted: true)
                    == srtcp)
            #expect(
                ReferenceSRTP.gcmProtectRTCP(
                    key: key, salt: salt, packet: Self.rfc7714RTCP, index: Self.rfc7714RTCPIndex, encrypted: false) == unencrypted)

            let iv = ReferenceSRTP.gcmRTPIV(sessionSalt: salt, ssrc: 0x5501_a0b2, roc: 0, sequence: 0xf17b)
            let opened = ReferenceSRTP.gcmOpen(key: key, iv: iv, aad: Array(srtp.prefix(12)), sealed: Array(srtp.dropFirst(12)))
            #expect(opened.map { Array(Self.rfc7714RTP.prefix(12)) + $0 } == Self.rfc7714RTP)
            var forged = srtp
            forged[forged.count - 1] ^= 1
            #expect(ReferenceSRTP.gcmOpen(key: key, iv: iv, aad: Array(forged.prefix(12)), sealed: Array(forged.dropFirst(12))) == nil)
        }
    }

    /// The RFC 7714 packets through the wrapper, both ways, with the RFC's key and salt used as
    /// the master key and salt: libsrtp's output must be the reference's for the derived session
    /// keys. SRTCP carries libsrtp's first index, 1 (it cannot start at the RFC's 0x5d4).
    @Test(arguments: [SRTPSuite.aeadAES128GCM, .aeadAES256GCM])
    func rfc7714PacketsThroughTheWrapper(suite: SRTPSuite) throws {
        let masterKey = suite == .aeadAES128GCM ? Self.rfc7714Key128 : Self.rfc7714Key256
        let masterSalt = Self.rfc7714Salt
        func derive(_ label: ReferenceSRTP.Label, _ count: Int) -> [UInt8] {
            ReferenceSRTP.derive(masterKey: masterKey, masterSalt: masterSalt, label: label, count: count)
        }
        let rtpKey = derive(.rtpEncryption, suite.keyLength)
        let rtpSalt = derive(.rtpSalt, 12)
        let rtcpKey = derive(.rtcpEncryption, suite.keyLength)
        let rtcpSalt = derive(.rtcpSalt, 12)
        #expect(rtpKey != masterKey)

        let expectedSRTP = ReferenceSRTP.gcmProtectRTP(key: rtpKey, salt: rtpSalt, packet: Self.rfc7714RTP, roc: 0)
        let expectedSRTCP = ReferenceSRTP.gcmProtectRTCP(key: rtcpKey, salt: rtcpSalt, packet: Self.rfc7714RTCP, index: 1, encrypted: true)
        let expectedUnencrypted = ReferenceSRTP.gcmProtectRTCP(
            key: rtcpKey, salt: rtcpSalt, packet: Self.rfc7714RTCP, index: 1, encrypted: false)

        let sender = try SRTPSession(suite: suite, masterKeyAndSalt: masterKey + masterSalt, direction: .outbound)
        #expect(try sender.protect(rtp: Self.rfc7714RTP) == expectedSRTP)
        #expect(try sender.protect(rtcp: Self.rfc7714RTCP) == expectedSRTCP)
        let receiver = try SRTPSession(suite: suite, masterKeyAndSalt: masterKey + masterSalt, direction: .inbound)
        #expect(try receiver.unprotect(srtp: expectedSRTP) == Self.rfc7714RTP)
        #expect(try receiver.unprotect(srtcp: expectedSRTCP) == Self.rfc7714RTCP)

        // §17.3/§17.4's unencrypted SRTCP (SDES UNENCRYPTED_SRTCP): libsrtp supports it.
        let clearSender = try SRTPSession(
            suite: suite, masterKeyAndSalt: masterKey + masterSalt, direction: .outbound, encryptsRTCP: false)
        #expect(try clearSender.protect(rtcp: Self.rfc7714RTCP) == expectedUnencrypted)
        let clearReceiver = try SRTPSession(suite: suite, masterKeyAndSalt: masterKey + masterSalt, direction: .inbound)
        #expect(try clearReceiver.unprotect(srtcp: expectedUnencrypted) == Self.rfc7714RTCP)
    }

    // MARK: RFC 3711 Appendix B

    /// B.2: AES-CM keystream, session key 2B7E…, session salt F0F1…FD, SSRC 0, index 0.
    @Test func aesCMKeystreamB2() {
        let sessionKey = hex("2B7E151628AED2A6ABF7158809CF4F3C")
        let iv = ReferenceSRTP.aesCMIV(sessionSalt: hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD"), ssrc: 0, index: 0)
        #expect(iv == hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000"))
        let keystream = ReferenceSRTP.aesCMKeystream(key: sessionKey, iv: iv, count: 0xff02 * 16)
        func block(_ counter: Int) -> [UInt8] { Array(keystream[counter * 16..<counter * 16 + 16]) }
        #expect(block(0x0000) == hex("E03EAD0935C95E80E166B16DD92B4EB4"))
        #expect(block(0x0001) == hex("D23513162B02D0F72A43A2FE4A5F97AB"))
        #expect(block(0x0002) == hex("41E95B3BB0A2E8DD477901E4FCA894C0"))
        #expect(block(0xfeff) == hex("EC8CDF7398607CB0F2D21675EA9EA1E4"))
        #expect(block(0xff00) == hex("362B7C3C6773516318A077D7FC5073AE"))
        #expect(block(0xff01) == hex("6A2CC3787889374FBEB4C81B17BA6C44"))
    }

    /// B.3: the master key and salt (libsrtp's own test key) and the session keys they give.
    static let b3MasterKey = hex("E1F97A0D3E018BE0D64FA32C06DE4139")
    static let b3MasterSalt = hex("0EC675AD498AFEEBB6960B3AABE6")
    static let b3CipherKey = hex("C61E7A93744F39EE10734AFE3FF7A087")
    static let b3CipherSalt = hex("30CBBC08863D8C85D49DB34A9AE1")
    /// The first 160 bits of B.3's authentication key, HMAC-SHA1's key length.
    static let b3AuthKey = hex("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4")

    /// The reference KDF (which the GCM test above relies on) gives B.3's answers.
    @Test func keyDerivationB3() {
        func derive(_ label: ReferenceSRTP.Label, _ count: Int) -> [UInt8] {
            ReferenceSRTP.derive(masterKey: Self.b3MasterKey, masterSalt: Self.b3MasterSalt, label: label, count: count)
        }
        #expect(derive(.rtpEncryption, 16) == Self.b3CipherKey)
        #expect(derive(.rtpSalt, 14) == Self.b3CipherSalt)
        #expect(derive(.rtpAuthentication, 20) == Self.b3AuthKey)
    }

    /// libsrtp, keyed with B.3's master key, encrypts zeros into exactly B.3's session keystream
    /// for the packet's SSRC and index (IV of RFC 3711 §4.1.1), and tags the packet with
    /// HMAC-SHA1(B.3 auth key, packet || ROC) truncated to 80 bits (§4.2). A nonzero ROC, set
    /// before the first packet, puts the ROC in both the IV and the MAC input.
    @Test(arguments: [UInt32(0), 5])
    func sessionKeysB3ThroughTheWrapper(roc: UInt32) throws {
        let ssrc: UInt32 = 0x1234_5678
        let sequence: UInt16 = 0xabcd
        let payload = [UInt8](repeating: 0, count: 50)
        let rtp = SRTPTests.rtpPacket(sequence: sequence, ssrc: ssrc, payload: payload)

        let sender = try SRTPSession(
            suite: .aesCM128HMACSHA1_80, masterKeyAndSalt: Self.b3MasterKey + Self.b3MasterSalt, direction: .outbound, ssrc: ssrc)
        try sender.setRolloverCounter(roc, ssrc: ssrc)
        let srtp = try sender.protect(rtp: rtp)
        #expect(try sender.rolloverCounter(ssrc: ssrc) == roc)

        let index = UInt64(roc) << 16 | UInt64(sequence)
        let iv = ReferenceSRTP.aesCMIV(sessionSalt: Self.b3CipherSalt, ssrc: ssrc, index: index)
        let keystream = ReferenceSRTP.aesCMKeystream(key: Self.b3CipherKey, iv: iv, count: payload.count)
        #expect(srtp.count == rtp.count + 10)
        #expect(Array(srtp.prefix(12)) == Array(rtp.prefix(12)))
        #expect(Array(srtp[12..<12 + payload.count]) == zip(payload, keystream).map { $0 ^ $1 })

        let authenticated = Array(srtp.prefix(rtp.count)) + ReferenceSRTP.bigEndian(roc)
        #expect(Array(srtp.suffix(10)) == Array(ReferenceSRTP.hmacSHA1(key: Self.b3AuthKey, authenticated).prefix(10)))

        let receiver = try SRTPSession(
            suite: .aesCM128HMACSHA1_80, masterKeyAndSalt: Self.b3MasterKey + Self.b3MasterSalt, direction: .inbound, ssrc: ssrc)
        try receiver.setRolloverCounter(roc, ssrc: ssrc)
        #expect(try receiver.unprotect(srtp: srtp) == rtp)
    }

    /// RFC 2202 test case 2, so that the HMAC above is HMAC.
    @Test func referenceHMACIsHMAC() {
        #expect(
            ReferenceSRTP.hmacSHA1(key: Array("Jefe".utf8), Array("what do ya want for nothing?".utf8))
                == hex("effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"))
    }
}
