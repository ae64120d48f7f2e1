import Testing

@testable import SIP

private func hex(_ bytes: [UInt8]) -> String {
    bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
}

@Suite struct MD5HashTests {
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
    func rfc1321Vectors(message: String, digest: String) {
        #expect(hex(MD5Hash.hash(message.utf8)) == digest)
        var hasher = MD5Hash()
        for byte in message.utf8 { hasher.update(CollectionOfOne(byte)) }
        #expect(hex(hasher.finalize()) == digest)
    }

    /// Every length around the 56- and 64-byte padding boundaries: byte-at-a-time equals whole.
    @Test func byteAtATimeEqualsWholeAcrossBlockBoundaries() {
        for length in 0...200 {
            let message = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            var hasher = MD5Hash()
            for byte in message { hasher.update(CollectionOfOne(byte)) }
            #expect(hasher.finalize() == MD5Hash.hash(message), "length \(length)")
            #expect(MD5Hash.hash(message).count == MD5Hash.byteCount)
        }
    }

    @Test func finalizeDoesNotDisturbTheRunningHash() {
        var hasher = MD5Hash()
        hasher.update("ab".utf8)
        _ = hasher.finalize()
        hasher.update("c".utf8)
        #expect(hex(hasher.finalize()) == "900150983cd24fb0d6963f7d28e17f72")
    }
}

@Suite struct SHA256HashTests {
    /// FIPS 180-2 appendix B.1 and B.2, and the empty message.
    @Test(arguments: [
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    ])
    func fipsVectors(message: String, digest: String) {
        #expect(hex(SHA256Hash.hash(message.utf8)) == digest)
        var hasher = SHA256Hash()
        for byte in message.utf8 { hasher.update(CollectionOfOne(byte)) }
        #expect(hex(hasher.finalize()) == digest)
    }

    /// FIPS 180-2 appendix B.3: one million 'a', whole and in uneven pieces.
    @Test func oneMillionA() {
        let digest = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        let message = [UInt8](repeating: 0x61, count: 1_000_000)
        #expect(hex(SHA256Hash.hash(message)) == digest)
        var hasher = SHA256Hash()
        var offset = 0
        var piece = 1
        while offset < message.count {
            let end = min(message.count, offset + piece)
            hasher.update(message[offset..<end])
            offset = end
            piece = piece % 97 + 1
        }
        #expect(hex(hasher.finalize()) == digest)
    }

    @Test func byteAtATimeEqualsWholeAcrossBlockBoundaries() {
        for length in 0...200 {
            let message = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 101) }
            var hasher = SHA256Hash()
            for byte in message { hasher.update(CollectionOfOne(byte)) }
            #expect(hasher.finalize() == SHA256Hash.hash(message), "length \(length)")
            #expect(SHA256Hash.hash(message).count == SHA256Hash.byteCount)
        }
    }
}
