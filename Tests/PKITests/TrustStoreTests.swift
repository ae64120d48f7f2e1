import Foundation
import PKI
import Testing

@Suite("PKI: trust store")
struct TrustStoreTests {
    /// A call manager's CAPF-like root and its CRL, made by this target (another CA, another name).
    static func externalRoot(_ name: String = "CAPF-1234abcd", validity: Validity = .days(365)) throws -> CertificateAuthority {
        try CertificateAuthority.createRoot(
            subject: DistinguishedName(commonName: name, organization: "Cisco", organizationalUnit: "VTG"),
            key: try PrivateKey(generating: .rsa2048), validity: validity)
    }

    static func crl(of authority: CertificateAuthority, revoking serials: [String] = [], number: Int = 1, at now: PKITime = .now, days: Int = 7) throws -> String {
        try CertificateRevocationList.build(
            authority: authority, entries: serials.map { .init(serialNumber: $0, revocationDate: now) }, number: number,
            thisUpdate: now, nextUpdate: now.adding(days: days)
        ).pemEncoded()
    }

    @Test func addListRemove() throws {
        let (store, directory) = try PKIStoreTests.initialisedStore()
        defer { TestSupport.remove(directory) }
        let capf = try Self.externalRoot()
        let root = try store.addTrustedRoot(pem: try capf.certificate.pemEncoded(), crlPEM: try Self.crl(of: capf))
        #expect(root.fingerprint == capf.certificate.sha256FingerprintHex)
        #expect(root.revocationList?.number == 1)
        #expect(TestSupport.mode(root.path) == 0o644)

        let manufacturer = try Self.externalRoot("Phone Manufacturer Root")
        _ = try store.addTrustedRoot(pem: try manufacturer.certificate.pemEncoded())

        let roots = try store.trustedRoots()
        #expect(Set(roots.map(\.fingerprint)) == [capf.certificate.sha256FingerprintHex, manufacturer.certificate.sha256FingerprintHex])
        let bundle = try Certificate.all(pemEncoded: TestSupport.read(store.layout.caBundle))
        #expect(bundle.count == 3)
        #expect(bundle[0] == (try store.authorityCertificate()))
        #expect(Set(bundle.dropFirst()) == [capf.certificate, manufacturer.certificate])

        let material = try store.tlsMaterial()
        #expect(material.crlPaths == [store.layout.revocationList, store.layout.trustedRootCRL(fingerprint: root.fingerprint)])
        #expect(material.rootsWithoutCRL.count == 1)
        #expect(material.rootsWithoutCRL[0].contains("Phone Manufacturer Root"))

        // Remove by a colon-separated, lower-case prefix.
        let prefix = String(capf.certificate.sha256FingerprintText.prefix(11)).lowercased()
        let removed = try store.removeTrustedRoot(fingerprint: prefix)
        #expect(removed.certificate == capf.certificate)
        #expect(!FileManager.default.fileExists(atPath: root.path))
        #expect(!FileManager.default.fileExists(atPath: store.layout.trustedRootCRL(fingerprint: root.fingerprint)))
        #expect(try store.trustedRoots().map(\.certificate) == [manufacturer.certificate])
        #expect(try Certificate.all(pemEncoded: TestSupport.read(store.layout.caBundle)).count == 2)
        #expect(throws: PKIStoreError.self) { try store.removeTrustedRoot(fingerprint: prefix) }
        #expect(throws: PKIStoreError.self) { try store.removeTrustedRoot(fingerprint: "abc") }
    }

    @Test func theCRLRequirementIsStoredWithTheRootAndDefaultsToRequired() throws {
        let (store, directory) = try PKIStoreTests.initialisedStore()
        defer { TestSupport.remove(directory) }
        let strict = try Self.externalRoot("Strict Root")
        let lenient = try Self.externalRoot("CUCM Root Without CRL")
        let required = try store.addTrustedRoot(pem: try strict.certificate.pemEncoded())
        let optional = try store.addTrustedRoot(pem: try lenient.certificate.pemEncoded(), crlRequirement: .optional)
        #expect(required.crlRequirement == .required)
        #expect(optional.crlRequirement == .optional)
        let requirementFile = store.layout.trustedRootCRLRequirement(fingerprint: optional.fingerprint)
        #expect(try TestSupport.read(requirementFile) == "optional\n")
        #expect(TestSupport.mode(requirementFile) == 0o644)

        let stored = Dictionary(uniqueKeysWithValues: try store.trustedRoots().map { ($0.fingerprint, $0.crlRequirement) })
        #expect(stored == [required.fingerprint: .required, optional.fingerprint: .optional])
        // Only the required root is reported as refusing its certificates; the optional one goes
        // to TLS, the edge CA never does.
        var material = try store.tlsMaterial()
        #expect(material.crlOptionalRoots == [optional.fingerprint])
        #expect(material.rootsWithoutCRL.count == 1)
        #expect(material.rootsWithoutCRL[0].contains("Strict Root"))
        #expect(material.crlOptionalRootsWithoutCRL.count == 1)
        #expect(material.crlOptionalRootsWithoutCRL[0].contains("CUCM Root Without CRL"))
        #expect(!material.crlOptionalRoots.contains(try store.authorityCertificate().sha256FingerprintHex))

        // A root stored before the choice existed (no file) needs its CRL.
        try FileManager.default.removeItem(atPath: store.layout.trustedRootCRLRequirement(fingerprint: required.fingerprint))
        #expect(try store.trustedRoots().first { $0.fingerprint == required.fingerprint }?.crlRequirement == .required)
        // A choice that is neither is refused, not guessed.
        try TestSupport.write("maybe\n", to: requirementFile)
        #expect(throws: PKIStoreError.self) { try store.trustedRoots() }
        try TestSupport.write("optional\n", to: requirementFile)

        // An optional root's CRL, once added, is shipped to TLS like any other.
        _ = try store.setTrustedRootCRL(fingerprint: optional.fingerprint, crlPEM: try Self.crl(of: lenient))
        material = try store.tlsMaterial()
        #expect(material.crlOptionalRootsWithoutCRL.isEmpty)
        #expect(material.crlPaths.contains(store.layout.trustedRootCRL(fingerprint: optional.fingerprint)))

        _ = try store.removeTrustedRoot(fingerprint: optional.fingerprint)
        #expect(!FileManager.default.fileExists(atPath: requirementFile))
    }

    @Test func refusals() throws {
        let (store, directory) = try PKIStoreTests.initialisedStore(at: "2026-06-01T00:00:00Z")
        defer { TestSupport.remove(directory) }
        func refusal(_ pem: String, crl: String? = nil) -> PKIStoreError? {
            do {
                _ = try store.addTrustedRoot(pem: pem, crlPEM: crl)
                return nil
            } catch {
                return error
            }
        }
        let capf = try Self.externalRoot(validity: .days(365, startingAt: TestSupport.time("2026-01-01T00:00:00Z")))
        let capfPEM = try capf.certificate.pemEncoded()

        // Not a CA.
        let leaf = try capf.issueDeviceCertificate(name: "SEP1", for: try PrivateKey(generating: .ecP256).publicKey, validity: .days(90, startingAt: TestSupport.time("2026-05-01T00:00:00Z")))
        let notCA = refusal(try leaf.pemEncoded())
        #expect(notCA?.code == .policyViolation)
        #expect(notCA?.message == "root CN=SEP1 refused: it is not a CA certificate (basicConstraints cA is not set)")

        // Expired.
        let old = try Self.externalRoot("Old Root", validity: Validity(
            notBefore: TestSupport.time("2020-01-01T00:00:00Z"), notAfter: TestSupport.time("2026-01-01T00:00:00Z")))
        #expect(refusal(try old.certificate.pemEncoded())?.message
                == "root CN=Old Root,OU=VTG,O=Cisco refused: it expired on 2026-01-01T00:00:00Z")

        // Weak key.
        let weak = try CertificateAuthority.createRoot(
            subject: DistinguishedName(commonName: "Weak Root"), key: try PrivateKey(pemEncoded: TestSupport.rsa1024PEM),
            validity: .days(365, startingAt: TestSupport.time("2026-01-01T00:00:00Z")))
        #expect(refusal(try weak.certificate.pemEncoded())?.message.contains("RSA key of 1024 bits is below the 2048-bit floor") == true)

        // An intermediate, not a root.
        let intermediateKey = try PrivateKey(generating: .ecP256)
        let intermediate = try capf.issue(
            .rootAuthority(subject: DistinguishedName(commonName: "Intermediate"), validity: .days(90, startingAt: TestSupport.time("2026-05-01T00:00:00Z"))),
            for: intermediateKey.publicKey)
        #expect(refusal(try intermediate.pemEncoded())?.message.contains("is not self-signed") == true)

        // Two certificates at once, or none.
        #expect(refusal(capfPEM + (try old.certificate.pemEncoded()))?.message == "the file holds 2 certificates; add one root at a time")
        #expect(refusal("nothing")?.code == .invalidInput)

        // The edge's own CA.
        #expect(refusal(try store.authorityCertificate().pemEncoded())?.code == .alreadyExists)

        // A CRL from someone else, or an expired one.
        let stranger = try Self.externalRoot("Stranger")
        #expect(refusal(capfPEM, crl: try Self.crl(of: stranger))?.message.contains("is not signed by") == true)
        let staleCRL = try Self.crl(of: capf, at: TestSupport.time("2026-05-01T00:00:00Z"), days: 7)
        #expect(refusal(capfPEM, crl: staleCRL)?.message.contains("expired on 2026-05-08T00:00:00Z") == true)

        // Nothing was stored by any of these; then the real thing works once.
        #expect(try store.trustedRoots().isEmpty)
        #expect(refusal(capfPEM) == nil)
        let duplicate = refusal(capfPEM)
        #expect(duplicate?.code == .alreadyExists)
        #expect(duplicate?.message.contains("is already trusted") == true)
    }

    @Test func replaceARootsCRL() throws {
        let (store, directory) = try PKIStoreTests.initialisedStore()
        defer { TestSupport.remove(directory) }
        let capf = try Self.externalRoot()
        let root = try store.addTrustedRoot(pem: try capf.certificate.pemEncoded())
        #expect(root.revocationList == nil)
        let updated = try store.setTrustedRootCRL(fingerprint: root.fingerprint, crlPEM: try Self.crl(of: capf, revoking: ["1234"], number: 5))
        #expect(updated.revocationList?.entries.count == 1)
        #expect(try store.tlsMaterial().rootsWithoutCRL.isEmpty)
        // An older CRL does not replace a newer one.
        #expect(throws: PKIStoreError.self) { try store.setTrustedRootCRL(fingerprint: root.fingerprint, crlPEM: try Self.crl(of: capf, number: 4)) }
        #expect(try store.trustedRoots()[0].revocationList?.number == 5)
    }

    @Test func sha1RootIsAcceptedAsAnchorEvenInFIPSMode() throws {
        let (store, directory) = try PKIStoreTests.initialisedStore(fipsMode: true)
        defer { TestSupport.remove(directory) }
        let result = try TestSupport.openssl([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha1", "-keyout", "\(directory)/k.pem", "-out", "\(directory)/c.pem",
            "-days", "100", "-subj", "/CN=Legacy Manufacturing CA", "-addext", "basicConstraints=critical,CA:TRUE",
        ])
        try #require(result.status == 0, "\(result.output)")
        let root = try store.addTrustedRoot(pem: try TestSupport.read("\(directory)/c.pem"))
        #expect(root.certificate.signatureAlgorithm == "sha1WithRSAEncryption")
    }
}
