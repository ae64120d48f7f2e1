import PKI
import Testing

@Suite("PKI: CA and issuance")
struct CertificateAuthorityTests {
    @Test func rootDefaultsAreP384TenYearsPathLengthZero() throws {
        let start = TestSupport.time("2026-01-01T12:00:00Z")
        let authority = try CertificateAuthority.createRoot(
            subject: DistinguishedName(commonName: "Edge CA", organization: "Outpost", country: "DE"),
            validity: .days(3652, startingAt: start))
        let certificate = authority.certificate
        #expect(certificate.publicKeyAlgorithm == .ec(.p384))
        #expect(certificate.publicKeyBits == 384)
        #expect(authority.privateKey.algorithm == .ec(.p384))
        #expect(certificate.isCertificateAuthority)
        #expect(certificate.pathLengthConstraint == 0)
        #expect(certificate.keyUsage == [.keyCertSign, .cRLSign])
        #expect(certificate.extendedKeyUsages.isEmpty)
        #expect(certificate.isSelfSigned)
        #expect(certificate.verifySignature(issuer: certificate))
        #expect(certificate.subject == "CN=Edge CA,O=Outpost,C=DE")
        #expect(certificate.issuer == certificate.subject)
        #expect(certificate.subjectCommonName == "Edge CA")
        #expect(certificate.notBefore == start)
        #expect(certificate.notAfter.description == "2036-01-01T12:00:00Z")
        #expect(certificate.signatureAlgorithm == "ecdsa-with-SHA384")
        #expect(certificate.signatureDigest == .sha384)
        #expect(certificate.version == 3)
        let identifier = try #require(certificate.subjectKeyIdentifier)
        #expect(identifier.count == 40)
        #expect(certificate.authorityKeyIdentifier == identifier)
    }

    @Test func serverCertificateCarriesNamesAndBothUsages() throws {
        let authority = TestSupport.authority
        let key = try PrivateKey(generating: .ecP256)
        let certificate = try authority.issueServerCertificate(
            dnsNames: ["srst.branch.example", "edge"], ipAddresses: ["10.1.2.3", "2001:db8::53"], for: key.publicKey,
            validity: .days(825))
        #expect(certificate.subjectCommonName == "srst.branch.example")
        #expect(certificate.subjectAlternativeNames == [
            .dns("srst.branch.example"), .dns("edge"), .ipAddress("10.1.2.3"), .ipAddress("2001:db8::53"),
        ])
        #expect(certificate.extendedKeyUsages == [.serverAuth, .clientAuth])
        #expect(certificate.keyUsage == [.digitalSignature])
        #expect(!certificate.isCertificateAuthority)
        #expect(certificate.pathLengthConstraint == nil)
        #expect(!certificate.isSelfSigned)
        #expect(certificate.verifySignature(issuer: authority.certificate))
        #expect(certificate.issuer == authority.certificate.subject)
        #expect(certificate.authorityKeyIdentifier == authority.certificate.subjectKeyIdentifier)
        #expect(certificate.subjectKeyIdentifier != authority.certificate.subjectKeyIdentifier)
        #expect(certificate.matches(key))
        #expect(certificate.publicKey == key.publicKey)
    }

    @Test func deviceCertificateIsClientAuthWithOptionalURI() throws {
        let key = try PrivateKey(generating: .rsa2048)
        let certificate = try TestSupport.authority.issueDeviceCertificate(
            name: "SEP001122334455", uri: "sip:SEP001122334455@branch.example", for: key.publicKey, validity: .days(30))
        #expect(certificate.subjectCommonName == "SEP001122334455")
        #expect(certificate.subject == "CN=SEP001122334455")
        #expect(certificate.extendedKeyUsages == [.clientAuth])
        #expect(certificate.keyUsage == [.digitalSignature, .keyEncipherment])
        #expect(certificate.subjectAlternativeNames == [.uri("sip:SEP001122334455@branch.example")])
        #expect(certificate.publicKeyAlgorithm == .rsa)
        #expect(certificate.publicKeyBits == 2048)

        let plain = try TestSupport.authority.issueDeviceCertificate(name: "SEPAABBCCDDEEFF", for: key.publicKey, validity: .days(30))
        #expect(plain.subjectAlternativeNames.isEmpty)
    }

    @Test func trustListSignerNeedsRSA() throws {
        let rsa = try PrivateKey(generating: .rsa2048)
        let certificate = try TestSupport.authority.issueTrustListSignerCertificate(
            commonName: "Outpost SAST", for: rsa.publicKey, validity: .days(365))
        #expect(certificate.keyUsage == [.digitalSignature])
        #expect(certificate.extendedKeyUsages.isEmpty)
        #expect(certificate.publicKeyAlgorithm == .rsa)

        let signer = try SigningIdentity(certificate: certificate, privateKey: rsa)
        let file = Array("ITLFile.tlv".utf8)
        let signature = try signer.sign(file, digest: .sha256)
        #expect(try signer.verify(signature: signature, for: file, digest: .sha256))
        #expect(try certificate.verify(signature: signature, for: file))
        #expect(throws: PKIError.self) { try SigningIdentity(certificate: certificate, privateKey: try PrivateKey(generating: .rsa2048)) }

        do throws(PKIError) {
            _ = try TestSupport.authority.issueTrustListSignerCertificate(
                commonName: "SAST", for: try PrivateKey(generating: .ecP256).publicKey, validity: .days(1))
            Issue.record("an EC SAST certificate was issued")
        } catch {
            #expect(error.code == .invalidInput)
            #expect(error.description.contains("needs an RSA key"))
        }
    }

    @Test func serialsAreRandom128Bit() throws {
        let key = try PrivateKey(generating: .ecP256)
        var serials = Set<String>()
        for _ in 0..<20 {
            let certificate = try TestSupport.authority.issueDeviceCertificate(name: "SEP1", for: key.publicKey, validity: .days(1))
            #expect(certificate.serialNumber.count == 32)
            #expect(certificate.serialNumber.first.map { "89ABCDEF".contains($0) } == true)
            serials.insert(certificate.serialNumber)
        }
        #expect(serials.count == 20)
    }

    @Test func explicitBackDatedValidity() throws {
        let key = try PrivateKey(generating: .ecP256)
        let validity = Validity(notBefore: TestSupport.time("2024-01-01T00:00:00Z"), notAfter: TestSupport.time("2026-01-01T00:00:00Z"))
        let certificate = try TestSupport.authority.issueDeviceCertificate(name: "SEPOLD", for: key.publicKey, validity: validity)
        #expect(certificate.notBefore.description == "2024-01-01T00:00:00Z")
        #expect(certificate.notAfter.description == "2026-01-01T00:00:00Z")
        // GeneralizedTime from 2050 on.
        let far = Validity(notBefore: TestSupport.time("2049-06-01T00:00:00Z"), notAfter: TestSupport.time("2060-06-01T00:00:00Z"))
        let late = try TestSupport.authority.issueDeviceCertificate(name: "SEPFAR", for: key.publicKey, validity: far)
        #expect(late.notAfter.description == "2060-06-01T00:00:00Z")
    }

    @Test func defaultValidityStartsFiveMinutesEarly() {
        let now = TestSupport.time("2026-05-05T10:00:00Z")
        let validity = Validity.days(10, now: now)
        #expect(validity.notBefore.description == "2026-05-05T09:55:00Z")
        #expect(validity.notAfter.description == "2026-05-15T10:00:00Z")
    }

    @Test(arguments: [
        SubjectAlternativeName.dns("bad name"), .dns("-leading.example"), .dns("a..b"), .dns(""), .ipAddress("10.0.0.300"),
        .ipAddress("srst.example"), .uri("sip:with space"),
    ])
    func badNamesAreRefused(name: SubjectAlternativeName) throws {
        let key = try PrivateKey(generating: .ecP256)
        let profile = CertificateProfile(
            subject: DistinguishedName(commonName: "x"), subjectAlternativeNames: [name], keyUsage: [.digitalSignature],
            validity: .days(1))
        do throws(PKIError) {
            _ = try TestSupport.authority.issue(profile, for: key.publicKey)
            Issue.record("\(name) was accepted")
        } catch {
            #expect(error.code == .invalidInput)
        }
    }

    @Test func invertedValidityAndBadDeviceNamesAreRefused() throws {
        let key = try PrivateKey(generating: .ecP256)
        let inverted = Validity(notBefore: TestSupport.time("2026-01-02T00:00:00Z"), notAfter: TestSupport.time("2026-01-01T00:00:00Z"))
        #expect(throws: PKIError.self) { try TestSupport.authority.issueDeviceCertificate(name: "SEP1", for: key.publicKey, validity: inverted) }
        for name in ["", "tab\there", String(repeating: "x", count: 65), " leading"] {
            #expect(throws: PKIError.self) { try TestSupport.authority.issueDeviceCertificate(name: name, for: key.publicKey, validity: .days(1)) }
        }
        // UTF-8 names are kept as UTF-8.
        let named = try TestSupport.authority.issueDeviceCertificate(name: "Empfang-Büro", for: key.publicKey, validity: .days(1))
        #expect(named.subjectCommonName == "Empfang-Büro")
        #expect(named.subject == "CN=Empfang-Büro")
    }

    @Test func authorityRefusesNonCAOrForeignKey() throws {
        let key = try PrivateKey(generating: .ecP256)
        let leaf = try TestSupport.authority.issueDeviceCertificate(name: "SEP1", for: key.publicKey, validity: .days(1))
        #expect(throws: PKIError.self) { try CertificateAuthority(certificate: leaf, privateKey: key) }
        #expect(throws: PKIError.self) {
            try CertificateAuthority(certificate: TestSupport.authority.certificate, privateKey: try PrivateKey(generating: .ecP384))
        }
        let reloaded = try CertificateAuthority(
            certificate: try Certificate(pemEncoded: try TestSupport.authority.certificate.pemEncoded()),
            privateKey: try PrivateKey(pemEncoded: try TestSupport.authority.privateKey.pkcs8PEM()))
        let issued = try reloaded.issueDeviceCertificate(name: "SEP2", for: key.publicKey, validity: .days(1))
        #expect(issued.verifySignature(issuer: TestSupport.authority.certificate))
    }

    @Test func rsaCAAndSHA1DigestOnRequest() throws {
        let authority = try CertificateAuthority.createRoot(
            subject: DistinguishedName(commonName: "RSA CA"), key: try PrivateKey(generating: .rsa3072), validity: .days(10))
        #expect(authority.certificate.signatureAlgorithm == "sha256WithRSAEncryption")
        let key = try PrivateKey(generating: .ecP256)
        let legacy = try authority.issue(
            .device(name: "SEPLEGACY", keyAlgorithm: .ec(.p256), validity: .days(1)), for: key.publicKey, digest: .sha1)
        #expect(legacy.signatureAlgorithm == "sha1WithRSAEncryption")
        #expect(legacy.signatureDigest == .sha1)
        #expect(legacy.verifySignature(issuer: authority.certificate))
        #expect(!legacy.verifySignature(issuer: TestSupport.authority.certificate))
    }
}
