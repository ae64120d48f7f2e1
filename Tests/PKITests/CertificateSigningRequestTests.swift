import Foundation
import PKI
import Testing

@Suite("PKI: certificate signing requests")
struct CertificateSigningRequestTests {
    @Test func createParseAndVerify() throws {
        let key = try PrivateKey(generating: .ecP384)
        let request = try CertificateSigningRequest(
            subject: DistinguishedName(commonName: "SEP001122334455", organization: "Branch"), key: key,
            subjectAlternativeNames: [.uri("sip:SEP001122334455@branch.example")])
        #expect(request.verifySignature())
        #expect(request.subjectCommonName == "SEP001122334455")
        #expect(request.subject == "CN=SEP001122334455,O=Branch")
        #expect(request.publicKey == key.publicKey)
        #expect(request.requestedSubjectAlternativeNames == [.uri("sip:SEP001122334455@branch.example")])
        #expect(request.signatureAlgorithm == "ecdsa-with-SHA384")

        let pem = try request.pemEncoded()
        #expect(pem.hasPrefix("-----BEGIN CERTIFICATE REQUEST-----\n"))
        let parsed = try CertificateSigningRequest(pemEncoded: pem)
        #expect(parsed.derEncoded == request.derEncoded)
        #expect(parsed.verifySignature())
    }

    @Test func opensslReqIsReadAndVerified() throws {
        let directory = try TestSupport.scratchDirectory("csr")
        defer { TestSupport.remove(directory) }
        let result = try TestSupport.openssl([
            "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(directory)/k.pem", "-out", "\(directory)/r.pem",
            "-subj", "/CN=SEPAABBCCDDEEFF/O=Phones", "-addext", "subjectAltName=DNS:phone.example",
        ])
        #expect(result.status == 0, "\(result.output)")
        let request = try CertificateSigningRequest(pemEncoded: try TestSupport.read("\(directory)/r.pem"))
        #expect(request.verifySignature())
        #expect(request.subjectCommonName == "SEPAABBCCDDEEFF")
        #expect(request.publicKey?.algorithm == .rsa)
        #expect(request.publicKey?.bits == 2048)
        #expect(request.requestedSubjectAlternativeNames == [.dns("phone.example")])

        // And the openssl CLI accepts what we create.
        let ours = try CertificateSigningRequest(subject: DistinguishedName(commonName: "edge"), key: try PrivateKey(generating: .rsa2048))
        try TestSupport.write(try ours.pemEncoded(), to: "\(directory)/ours.pem")
        let verify = try TestSupport.openssl(["req", "-in", "\(directory)/ours.pem", "-noout", "-verify", "-subject"])
        #expect(verify.status == 0, "\(verify.output)")
        #expect(verify.output.contains("CN = edge"))
    }

    @Test func tamperedRequestFailsVerification() throws {
        let key = try PrivateKey(generating: .ecP256)
        let request = try CertificateSigningRequest(subject: DistinguishedName(commonName: "SEP1"), key: key)
        // Swap in another key: the signature no longer matches the key inside.
        let forged = try CertificateSigningRequest(subject: DistinguishedName(commonName: "SEP1"), key: try PrivateKey(generating: .ecP256))
        var der = request.derEncoded
        // Flip a bit in the last byte of the signature.
        der[der.count - 1] ^= 0x01
        let pem = "-----BEGIN CERTIFICATE REQUEST-----\n" + base64(der) + "\n-----END CERTIFICATE REQUEST-----\n"
        let damaged = try CertificateSigningRequest(pemEncoded: pem)
        #expect(!damaged.verifySignature())
        #expect(forged.verifySignature())
        #expect(throws: PKIError.self) { try CertificateSigningRequest(pemEncoded: "not a request") }
    }

    private func base64(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
    }
}
