import PKI
import Testing

@Suite("PKI: keys and signatures")
struct KeyAndSignatureTests {
    @Test func digestVectors() throws {
        // FIPS 180-2 "abc" vectors.
        #expect(try DigestAlgorithm.sha256.hash(Array("abc".utf8)).map { TestSupport.hex($0) }.joined()
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(try DigestAlgorithm.sha1.hash(Array("abc".utf8)).count == 20)
        #expect(try DigestAlgorithm.sha384.hash([]).count == 48)
        #expect(try DigestAlgorithm.sha512.hash([]).count == 64)
    }

    @Test(arguments: [KeySpec.rsa2048, .ecP256, .ecP384])
    func signAndVerify(spec: KeySpec) throws {
        let key = try PrivateKey(generating: spec)
        let message = Array("CTL header and records".utf8)
        for digest in [DigestAlgorithm.sha256, .sha1, .sha512] {
            let signature = try key.sign(message, digest: digest)
            #expect(try key.publicKey.verify(signature: signature, for: message, digest: digest))
            #expect(try !key.publicKey.verify(signature: signature, for: message + [0], digest: digest))
            var damaged = signature
            damaged[damaged.count / 2] ^= 0x01
            #expect(try !key.publicKey.verify(signature: damaged, for: message, digest: digest))
            #expect(try !PrivateKey(generating: .ecP256).publicKey.verify(signature: signature, for: message, digest: digest))
        }
    }

    @Test func rsaSignatureIsDeterministicPKCS1v15() throws {
        // PKCS#1 v1.5 signatures are deterministic (PSS would differ each time) and as long as the modulus.
        let key = try PrivateKey(generating: .rsa2048)
        let first = try key.sign(Array("x".utf8))
        #expect(first == (try key.sign(Array("x".utf8))))
        #expect(first.count == 256)
    }

    @Test func rsaSignatureVerifiesWithOpenSSLCLI() throws {
        let directory = try TestSupport.scratchDirectory("sig")
        defer { TestSupport.remove(directory) }
        let key = try PrivateKey(generating: .rsa2048)
        let message = Array("signed trust list".utf8)
        let signature = try key.sign(message, digest: .sha256)
        try TestSupport.write(try key.publicKeyPEM(), to: "\(directory)/pub.pem")
        try TestSupport.write(String(decoding: message, as: UTF8.self), to: "\(directory)/msg")
        try TestSupport.write(bytes: signature, to: "\(directory)/sig")
        // openssl dgst uses PKCS#1 v1.5 for RSA unless told otherwise.
        let result = try TestSupport.openssl(["dgst", "-sha256", "-verify", "\(directory)/pub.pem", "-signature", "\(directory)/sig", "\(directory)/msg"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("Verified OK"))
    }

    @Test func publicKeyPEMRoundTripAndMatching() throws {
        let key = try PrivateKey(generating: .ecP256)
        let decoded = try PublicKey(pemEncoded: try key.publicKeyPEM())
        #expect(decoded == key.publicKey)
        #expect(decoded.matches(key))
        #expect(!decoded.matches(try PrivateKey(generating: .ecP256)))
        #expect(decoded.algorithm == .ec(.p256))
        #expect(decoded.bits == 256)
        #expect(try decoded.derEncoded().count == 91)
        #expect(decoded.description == "PublicKey(EC P-256, 256 bits)")
    }
}
