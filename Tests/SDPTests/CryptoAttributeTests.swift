import Testing

import SDP

private func cryptoError(_ value: String) -> SDPAttributeError? {
    do {
        _ = try CryptoAttribute(parsing: value)
        return nil
    } catch {
        return error
    }
}

private let key30 = "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"

@Suite("RFC 4568 a=crypto")
struct CryptoAttributeTests {
    @Test func rfc4568FirstLine() throws {
        let crypto = try CryptoAttribute(parsing: "1 AES_CM_128_HMAC_SHA1_80 inline:\(key30)|2^20|1:4 FEC_ORDER=FEC_SRTP")
        #expect(crypto.tag == 1)
        #expect(crypto.suite == .aesCM128HMACSHA1_80)
        #expect(crypto.keyParameters.count == 1)
        let key = crypto.keyParameters[0]
        #expect(key.keySalt.count == 30)
        #expect(Array(key.keySalt.prefix(4)) == Array("YS__".utf8))
        #expect(key.lifetime == .powerOfTwo(20))
        #expect(key.lifetime?.packetCount == 1_048_576)
        #expect(key.mki == SRTPKeyParameter.MKI(value: 1, length: 4))
        #expect(crypto.sessionParameters == ["FEC_ORDER=FEC_SRTP"])
    }

    @Test func unknownSuiteWithSeveralKeysIsKept() throws {
        let value =
            "2 F8_128_HMAC_SHA1_80 inline:MTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5QUJjZGVm|2^20|1:4;inline:QUJjZGVmMTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5|2^20|2:4 FEC_ORDER=FEC_SRTP"
        let crypto = try CryptoAttribute(parsing: value)
        #expect(crypto.suite == .other("F8_128_HMAC_SHA1_80"))
        #expect(!crypto.suite.isSupported)
        #expect(crypto.keyParameters.map(\.mki) == [.init(value: 1, length: 4), .init(value: 2, length: 4)])
        #expect(crypto.value == value)
    }

    @Test("every a=crypto of the RFC 4568 examples round-trips byte-exact")
    func rfc4568ExamplesRoundTrip() throws {
        for text in [Fixtures.rfc4568Offer, Fixtures.rfc4568Answer, Fixtures.ciscoOffer, Fixtures.yealinkOffer] {
            let session = try SessionDescription(parsing: text)
            var count = 0
            for media in session.media {
                for (attribute, crypto) in zip(media.attributes.all(named: "crypto"), try media.cryptoAttributes()) {
                    #expect(crypto.value == attribute.value)
                    #expect(crypto.attribute == attribute)
                    count += 1
                }
            }
            #expect(count > 0)
        }
    }

    @Test func mkiWithoutLifetimeAndPlainLifetime() throws {
        let mkiOnly = try CryptoAttribute(parsing: "1 AES_CM_128_HMAC_SHA1_80 inline:YUJDZGVmZ2hpSktMbW9QUXJzVHVWd3l6MTIzNDU2|1066:4")
        #expect(mkiOnly.keyParameters[0].lifetime == nil)
        #expect(mkiOnly.keyParameters[0].mki == .init(value: 1066, length: 4))
        let lifetime = try CryptoAttribute(parsing: "7 AES_CM_128_HMAC_SHA1_32 inline:\(key30)|1000000")
        #expect(lifetime.keyParameters[0].lifetime == .packets(1_000_000))
        #expect(lifetime.value == "7 AES_CM_128_HMAC_SHA1_32 inline:\(key30)|1000000")
    }

    @Test func sessionParametersAreKept() throws {
        let crypto = try CryptoAttribute(
            parsing: "1 AES_CM_128_HMAC_SHA1_80 inline:\(key30) KDR=10 UNENCRYPTED_SRTCP UNAUTHENTICATED_SRTP WSH=128")
        #expect(crypto.sessionParameters == ["KDR=10", "UNENCRYPTED_SRTCP", "UNAUTHENTICATED_SRTP", "WSH=128"])
    }

    @Test func gcmKeyLengthsAndPadding() throws {
        let gcm128 = try CryptoAttribute(parsing: "2 AEAD_AES_128_GCM inline:uWCI5F4r1ocBcdSptEaBFKy7VpgdvvaytvifRA==")
        #expect(gcm128.keyParameters[0].keySalt.count == 28)
        let unpadded = try CryptoAttribute(parsing: "2 AEAD_AES_128_GCM inline:uWCI5F4r1ocBcdSptEaBFKy7VpgdvvaytvifRA")
        #expect(unpadded == gcm128)
        #expect(unpadded.value == "2 AEAD_AES_128_GCM inline:uWCI5F4r1ocBcdSptEaBFKy7VpgdvvaytvifRA==")
        let gcm256 = try CryptoAttribute(parsing: "1 AEAD_AES_256_GCM inline:HogGGnYz/Gkihby1bhM0PqujUKWBWm5AFoK4a9Efjkzaqiu0XkKMzh/mkxM=")
        #expect(gcm256.keyParameters[0].keySalt.count == 44)
    }

    @Test func suiteProperties() {
        #expect(CryptoSuite(name: "AES_CM_128_HMAC_SHA1_32") == .aesCM128HMACSHA1_32)
        #expect(CryptoSuite(name: "aes_cm_128_hmac_sha1_80") == .other("aes_cm_128_hmac_sha1_80"))
        #expect(CryptoSuite.aesCM128HMACSHA1_80.keySaltLength == 30)
        #expect(CryptoSuite.aesCM128HMACSHA1_32.keySaltLength == 30)
        #expect(CryptoSuite.aeadAES128GCM.keySaltLength == 28)
        #expect(CryptoSuite.aeadAES256GCM.keySaltLength == 44)
        #expect(CryptoSuite.other("X").keySaltLength == nil)
        #expect(CryptoSuite.supported.allSatisfy { $0.isSupported })
        #expect(CryptoSuite.supported.map(\.name) == [
            "AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32", "AEAD_AES_128_GCM", "AEAD_AES_256_GCM",
        ])
    }

    @Test func serializesWrittenValues() {
        let crypto = CryptoAttribute(
            tag: 3, suite: .aeadAES128GCM,
            keyParameters: [SRTPKeyParameter(keySalt: Array(0..<28), lifetime: .powerOfTwo(31), mki: .init(value: 5, length: 2))],
            sessionParameters: ["WSH=64"])
        #expect(crypto.attribute.description == "a=crypto:3 AEAD_AES_128_GCM inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw==|2^31|5:2 WSH=64")
    }

    static let errors: [(value: String, reason: String)] = [
        ("1 AES_CM_128_HMAC_SHA1_80", "expected '<tag> <crypto-suite> <key-params> [<session-param> …]', found 2 field(s)"),
        ("x AES_CM_128_HMAC_SHA1_80 inline:\(key30)", "tag 'x' is not a number of 1 to 9 digits"),
        ("1234567890 AES_CM_128_HMAC_SHA1_80 inline:\(key30)", "tag '1234567890' is not a number of 1 to 9 digits"),
        ("1 AES-CM inline:\(key30)", "crypto suite 'AES-CM' is not made of letters, digits and '_'"),
        ("1 AES_CM_128_HMAC_SHA1_80 \(key30)", "key parameter 1 is not '<method>:<key info>'"),
        ("1 AES_CM_128_HMAC_SHA1_80 uri:https://keys.example", "key parameter 1: key method 'uri' is not supported, only inline"),
        ("1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVub!Vz",
         "key parameter 1: inline key has an invalid character '!' at offset 37"),
        ("1 AES_CM_128_HMAC_SHA1_80 inline:WVNf=X19", "key parameter 1: inline key has an invalid character '=' at offset 4"),
        ("1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX", "key parameter 1: inline key has a length of 5 characters, which no byte string encodes to"),
        ("1 AES_CM_128_HMAC_SHA1_80 inline:", "key parameter 1: inline key is empty"),
        ("1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVzAAAA",
         "key parameter 1: inline key||salt is 33 bytes, AES_CM_128_HMAC_SHA1_80 needs 30"),
        ("1 AEAD_AES_128_GCM inline:\(key30)", "key parameter 1: inline key||salt is 30 bytes, AEAD_AES_128_GCM needs 28"),
        ("1 AEAD_AES_256_GCM inline:\(key30)", "key parameter 1: inline key||salt is 30 bytes, AEAD_AES_256_GCM needs 44"),
        ("1 AES_CM_128_HMAC_SHA1_80 inline:\(key30)|2^64", "key parameter 1: lifetime '2^64' is not 2^n with n in 0...63"),
        ("1 AES_CM_128_HMAC_SHA1_80 inline:\(key30)|forever", "key parameter 1: lifetime 'forever' is not a number or 2^n"),
        ("1 AES_CM_128_HMAC_SHA1_80 inline:\(key30)|99999999999999999999999",
         "key parameter 1: lifetime '99999999999999999999999' does not fit 64 bits"),
        ("1 AES_CM_128_HMAC_SHA1_80 inline:\(key30)|1:200", "key parameter 1: MKI length 200 is out of range 1...128"),
        ("1 AES_CM_128_HMAC_SHA1_80 inline:\(key30)|1:1000", "key parameter 1: MKI length '1000' is not a number of 1 to 3 digits"),
        ("1 AES_CM_128_HMAC_SHA1_80 inline:\(key30)|1:0", "key parameter 1: MKI length 0 is out of range 1...128"),
        ("1 AES_CM_128_HMAC_SHA1_80 inline:\(key30)|256:1", "key parameter 1: MKI value 256 does not fit in 1 byte(s)"),
        ("1 AES_CM_128_HMAC_SHA1_80 inline:\(key30)|x:4", "key parameter 1: MKI value 'x' is not a number"),
        ("1 AES_CM_128_HMAC_SHA1_80 inline:\(key30)|1:4|2^20", "key parameter 1: the lifetime must come before the MKI"),
        ("1 AES_CM_128_HMAC_SHA1_80 inline:\(key30)|2^20|2^10", "key parameter 1 has more than one lifetime"),
        ("1 AES_CM_128_HMAC_SHA1_80 inline:\(key30)|1:4|2:4", "key parameter 1 has more than one MKI"),
        ("1 AES_CM_128_HMAC_SHA1_80 inline:\(key30)|2^20|1:4|x", "key parameter 1 has more than a key, a lifetime and an MKI"),
        ("1 AES_CM_128_HMAC_SHA1_80 inline:\(key30);inline:\(key30)", "2 keys need an MKI each, all of the same length (RFC 4568 §6.1)"),
        ("1 AES_CM_128_HMAC_SHA1_80 inline:\(key30)|1:4;inline:\(key30)|2:2", "2 keys need an MKI each, all of the same length (RFC 4568 §6.1)"),
        ("1 AES_CM_128_HMAC_SHA1_80 inline:\(key30)|1:4;junk", "key parameter 2 is not '<method>:<key info>'"),
        ("1 AES_CM_128_HMAC_SHA1_80 inline:\(key30) KDR=é", "session parameter 'KDR=é' has a character that is not visible ASCII"),
    ]

    @Test(arguments: errors)
    func preciseErrors(_ testCase: (value: String, reason: String)) throws {
        let error = try #require(cryptoError(testCase.value))
        #expect(error.attribute == "crypto")
        #expect(error.reason == testCase.reason)
    }

    @Test("error messages never contain key material")
    func errorsDoNotLeakKeys() throws {
        let error = try #require(cryptoError("1 AES_CM_128_HMAC_SHA1_80 inline:\(key30)AAAA"))
        #expect(!error.description.contains("WVNf"))
    }

    @Test func cryptoAttributesAccessorReportsFirstBadLine() throws {
        let text = sdp(
            "v=0", "o=- 1 1 IN IP4 x", "s=-", "t=0 0", "m=audio 4000 RTP/SAVP 0",
            "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:\(key30)", "a=crypto:2 AEAD_AES_128_GCM inline:\(key30)")
        let media = try SessionDescription(parsing: text).media[0]
        #expect(throws: SDPAttributeError(
            attribute: "crypto", reason: "key parameter 1: inline key||salt is 30 bytes, AEAD_AES_128_GCM needs 28")) {
            try media.cryptoAttributes()
        }
    }
}
