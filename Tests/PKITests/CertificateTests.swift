import Foundation
import PKI
import Testing

@Suite("PKI: Certificate")
struct CertificateTests {
    /// A certificate made by the openssl CLI with every SAN type Outpost reads.
    static func opensslCertificate(in directory: String) throws -> (certificate: Certificate, path: String) {
        let path = "\(directory)/cli.pem"
        let result = try TestSupport.openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "\(directory)/cli.key",
            "-out", path, "-days", "30", "-subj", "/C=US/O=Cisco Systems/CN=CUCM-Pub",
            "-addext", "subjectAltName=DNS:cucm.example,IP:192.0.2.7,IP:2001:db8::7,URI:sip:cucm.example,email:pki@example.com",
            "-addext", "extendedKeyUsage=serverAuth,clientAuth,codeSigning,1.3.6.1.4.1.311.10.3.4",
            "-addext", "keyUsage=critical,digitalSignature",
        ])
        guard result.status == 0 else { throw TestFailure(result.output) }
        return (try Certificate(pemEncoded: try TestSupport.read(path)), path)
    }

    @Test func readsWhatTheOpenSSLCLIWrote() throws {
        let directory = try TestSupport.scratchDirectory("cert")
        defer { TestSupport.remove(directory) }
        let (certificate, path) = try Self.opensslCertificate(in: directory)
        #expect(certificate.subject == "CN=CUCM-Pub,O=Cisco Systems,C=US")
        #expect(certificate.subjectCommonName == "CUCM-Pub")
        #expect(certificate.subjectAlternativeNames == [
            .dns("cucm.example"), .ipAddress("192.0.2.7"), .ipAddress("2001:db8::7"), .uri("sip:cucm.example"),
            .email("pki@example.com"),
        ])
        #expect(certificate.extendedKeyUsages == [.serverAuth, .clientAuth, .codeSigning, .other(oid: "1.3.6.1.4.1.311.10.3.4")])
        #expect(certificate.keyUsage == [.digitalSignature])
        #expect(certificate.isSelfSigned)
        #expect(certificate.publicKeyAlgorithm == .ec(.p256))
        #expect(certificate.signatureAlgorithm == "ecdsa-with-SHA256")

        let serial = try TestSupport.openssl(["x509", "-in", path, "-noout", "-serial"])
        #expect(serial.output.trimmingCharacters(in: .whitespacesAndNewlines) == "serial=\(certificate.serialNumber)")
        let fingerprint = try TestSupport.openssl(["x509", "-in", path, "-noout", "-fingerprint", "-sha256"])
        #expect(fingerprint.output.contains(certificate.sha256FingerprintText))
        #expect(certificate.sha256FingerprintHex == certificate.sha256FingerprintText.replacingOccurrences(of: ":", with: ""))
        let dates = try TestSupport.openssl(["x509", "-in", path, "-noout", "-enddate", "-dateopt", "iso_8601"])
        #expect(dates.output.contains(certificate.notAfter.description.replacingOccurrences(of: "T", with: " ")))
    }

    @Test func pemAndDERRoundTrip() throws {
        let key = try PrivateKey(generating: .ecP256)
        let original = try TestSupport.authority.issueDeviceCertificate(name: "SEP1", for: key.publicKey, validity: .days(1))
        let pem = try original.pemEncoded()
        #expect(pem.hasPrefix("-----BEGIN CERTIFICATE-----\n"))
        #expect(pem.hasSuffix("-----END CERTIFICATE-----\n"))
        let fromPEM = try Certificate(pemEncoded: pem)
        let fromDER = try Certificate(derEncoded: original.derEncoded)
        #expect(fromPEM == original)
        #expect(fromDER == original)
        #expect(fromDER.derEncoded == original.derEncoded)
        #expect(try fromDER.pemEncoded() == pem)
        #expect(fromPEM.serialNumber == original.serialNumber)
        #expect(Set([original, fromPEM, fromDER]).count == 1)
    }

    @Test func bundlesAndGarbage() throws {
        let ca = try TestSupport.authority.certificate.pemEncoded()
        let key = try PrivateKey(generating: .ecP256)
        let leaf = try TestSupport.authority.issueDeviceCertificate(name: "SEP1", for: key.publicKey, validity: .days(1)).pemEncoded()
        let bundle = try Certificate.all(pemEncoded: "comment\n" + leaf + "\n" + ca)
        #expect(bundle.count == 2)
        #expect(bundle[1] == TestSupport.authority.certificate)

        #expect(throws: PKIError.self) { try Certificate.all(pemEncoded: "no certificates here") }
        #expect(throws: PKIError.self) { try Certificate.all(pemEncoded: ca + "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n") }
        do throws(PKIError) {
            _ = try Certificate(pemEncoded: "garbage")
            Issue.record("garbage accepted")
        } catch {
            #expect(error.code == .decodingFailed)
            #expect(!error.reasons.isEmpty)
        }
        #expect(throws: PKIError.self) { try Certificate(derEncoded: [0x30, 0x03, 0x02, 0x01, 0x01]) }
        #expect(throws: PKIError.self) { try Certificate(derEncoded: TestSupport.authority.certificate.derEncoded + [0]) }
    }

    @Test func signatureCheckAgainstTheWrongIssuerFails() throws {
        let other = try CertificateAuthority.createRoot(subject: DistinguishedName(commonName: "Test Edge CA", organization: "Outpost Tests"))
        let key = try PrivateKey(generating: .ecP256)
        let leaf = try other.issueDeviceCertificate(name: "SEP1", for: key.publicKey, validity: .days(1))
        // Same issuer name, different key: the name matches, the signature does not.
        #expect(leaf.issuer == TestSupport.authority.certificate.subject)
        #expect(!leaf.verifySignature(issuer: TestSupport.authority.certificate))
        #expect(leaf.verifySignature(issuer: other.certificate))
        #expect(!TestSupport.authority.certificate.verifySignature(issuer: leaf))
    }
}
