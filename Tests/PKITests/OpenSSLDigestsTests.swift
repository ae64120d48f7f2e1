import PKI
import SIP
import Testing

private func hex(_ bytes: [UInt8]) -> String {
    bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
}

private func hash(_ algorithm: SIPDigestAlgorithm, _ message: [UInt8], fipsMode: Bool = false) throws -> [UInt8] {
    let hashing = OpenSSLDigests.hashing(fipsMode: fipsMode)
    let result = message.withUnsafeBytes { bytes in Result { () throws(DigestHashingError) in try hashing.hash(algorithm, bytes) } }
    return try result.get()
}

/// The SIP digest hashes through OpenSSL's EVP, against the vectors the pure-Swift hashes they
/// replace were tested with.
@Suite struct OpenSSLDigestsTests {
    /// RFC 1321 appendix A.5.
    @Test(arguments: [
        ("", "d41d8cd98f00b204e9800998ecf8427e"),
        ("a", "0cc175b9c0f1b6a831c399e269772661"),
        ("abc", "900150983cd24fb0d6963f7d28e17f72"),
        ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
        ("abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"),
        ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"),
        ("12345678901234567890123456789012345678901234567890123456789012345678901234567890",
         "57edf4a22be3c955ac49da2e2107b67a"),
    ])
    func md5RFC1321Vectors(message: String, digest: String) throws {
        #expect(hex(try hash(.md5, Array(message.utf8))) == digest)
        #expect(try SIPDigestAlgorithm.md5.hexHash(message, using: OpenSSLDigests.hashing(fipsMode: false)) == digest)
    }

    /// FIPS 180-2 appendix B.1 and B.2, and the empty message; in FIPS mode too.
    @Test(arguments: [
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    ])
    func sha256FIPSVectors(message: String, digest: String) throws {
        #expect(hex(try hash(.sha256, Array(message.utf8))) == digest)
        #expect(hex(try hash(.sha256, Array(message.utf8), fipsMode: true)) == digest)
        #expect(try SIPDigestAlgorithm.sha256.hexHash(message, using: OpenSSLDigests.hashing(fipsMode: true)) == digest)
    }

    /// FIPS 180-2 appendix B.3: one million 'a'.
    @Test func sha256OneMillionA() throws {
        #expect(hex(try hash(.sha256, [UInt8](repeating: 0x61, count: 1_000_000)))
            == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func fipsModeRefusesMD5WithAReason() {
        #expect(throws: DigestHashingError(algorithm: "MD5", reason: "MD5 is not allowed in FIPS mode")) {
            try hash(.md5, Array("abc".utf8), fipsMode: true)
        }
        #expect(OpenSSLDigests.hashing(fipsMode: true).provider.contains("FIPS"))
    }

    /// RFC 4231 test cases 1, 2 and 6 (a key longer than the block), and an empty key and message.
    @Test func hmacSHA256RFC4231() throws {
        let cases: [([UInt8], [UInt8], String)] = [
            ([UInt8](repeating: 0x0b, count: 20), Array("Hi There".utf8),
             "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
            (Array("Jefe".utf8), Array("what do ya want for nothing?".utf8),
             "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
            ([UInt8](repeating: 0xaa, count: 131), Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
             "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
            ([], [], "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad"),
        ]
        for (key, message, expected) in cases {
            #expect(hex(try OpenSSLDigests.hmacSHA256(key: key, message: message)) == expected)
            #expect(hex(try OpenSSLDigests.hmacSHA256(key: key, message: message, fipsMode: true)) == expected)
        }
    }
}
