import PKI
import Testing

@Suite("PKI: CRL")
struct CertificateRevocationListTests {
    @Test func buildParseAndQuery() throws {
        let authority = TestSupport.authority
        let key = try PrivateKey(generating: .ecP256)
        let revoked = try authority.issueDeviceCertificate(name: "SEPBAD", for: key.publicKey, validity: .days(10))
        let kept = try authority.issueDeviceCertificate(name: "SEPGOOD", for: key.publicKey, validity: .days(10))
        let thisUpdate = TestSupport.time("2026-04-01T00:00:00Z")
        let entries = [
            CertificateRevocationList.Entry(serialNumber: revoked.serialNumber, revocationDate: thisUpdate.adding(days: -1), reason: .keyCompromise),
            CertificateRevocationList.Entry(serialNumber: "0a:bc", revocationDate: thisUpdate.adding(days: -2)),
        ]
        let crl = try CertificateRevocationList.build(
            authority: authority, entries: entries, number: 7, thisUpdate: thisUpdate, nextUpdate: thisUpdate.adding(days: 30))
        #expect(crl.version == 2)
        #expect(crl.number == 7)
        #expect(crl.issuer == authority.certificate.subject)
        #expect(crl.thisUpdate == thisUpdate)
        #expect(crl.nextUpdate?.description == "2026-05-01T00:00:00Z")
        #expect(crl.signatureAlgorithm == "ecdsa-with-SHA384")
        #expect(crl.verifySignature(issuer: authority.certificate))
        #expect(crl.contains(revoked))
        #expect(!crl.contains(kept))
        #expect(crl.contains(serialNumber: "0ABC"))
        #expect(crl.contains(serialNumber: revoked.serialNumber.lowercased()))
        #expect(!crl.contains(serialNumber: "zz"))
        // Sorted by serial; reasons and dates survive.
        let parsed = try CertificateRevocationList(pemEncoded: try crl.pemEncoded())
        #expect(parsed.derEncoded == crl.derEncoded)
        #expect(Set(parsed.entries) == Set([
            CertificateRevocationList.Entry(serialNumber: revoked.serialNumber, revocationDate: thisUpdate.adding(days: -1), reason: .keyCompromise),
            CertificateRevocationList.Entry(serialNumber: "0ABC", revocationDate: thisUpdate.adding(days: -2), reason: nil),
        ]))
        #expect(try CertificateRevocationList(derEncoded: crl.derEncoded).number == 7)

        let other = try CertificateAuthority.createRoot(subject: DistinguishedName(commonName: "Other CA"))
        #expect(!crl.verifySignature(issuer: other.certificate))
    }

    @Test func opensslReadsItAndSeesTheReason() throws {
        let directory = try TestSupport.scratchDirectory("crl")
        defer { TestSupport.remove(directory) }
        let now = PKITime.now
        let crl = try CertificateRevocationList.build(
            authority: TestSupport.authority,
            entries: [.init(serialNumber: "01F00D", revocationDate: now, reason: .cessationOfOperation)], number: 3,
            thisUpdate: now, nextUpdate: now.adding(days: 1))
        try TestSupport.write(try crl.pemEncoded(), to: "\(directory)/crl.pem")
        try TestSupport.write(try TestSupport.authority.certificate.pemEncoded(), to: "\(directory)/ca.pem")
        let text = try TestSupport.openssl(["crl", "-in", "\(directory)/crl.pem", "-noout", "-text", "-CAfile", "\(directory)/ca.pem"])
        #expect(text.status == 0, "\(text.output)")
        #expect(text.output.contains("verify OK"))
        #expect(text.output.contains("Version 2"))
        #expect(text.output.contains("Serial Number: 01F00D"))
        #expect(text.output.contains("Cessation Of Operation"))
        #expect(text.output.contains("X509v3 CRL Number"))
        #expect(text.output.contains("X509v3 Authority Key Identifier"))
    }

    @Test func emptyCRLAndRefusals() throws {
        let now = PKITime.now
        let empty = try CertificateRevocationList.build(
            authority: TestSupport.authority, entries: [], number: 1, thisUpdate: now, nextUpdate: now.adding(days: 1))
        #expect(empty.entries.isEmpty)
        #expect(throws: PKIError.self) {
            try CertificateRevocationList.build(authority: TestSupport.authority, entries: [], number: 1, thisUpdate: now, nextUpdate: now)
        }
        #expect(throws: PKIError.self) {
            try CertificateRevocationList.build(
                authority: TestSupport.authority, entries: [.init(serialNumber: "xyz", revocationDate: now)], number: 1,
                thisUpdate: now, nextUpdate: now.adding(days: 1))
        }
        #expect(throws: PKIError.self) { try CertificateRevocationList(pemEncoded: "nope") }
        #expect(CertificateRevocationList.Reason(name: "KEYCOMPROMISE") == .keyCompromise)
        #expect(CertificateRevocationList.Reason(name: "bogus") == nil)
    }
}
