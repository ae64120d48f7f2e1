import PKI
import Testing

@Suite("PKI: policy")
struct CertificatePolicyTests {
    static func device(_ key: PrivateKey, validity: Validity = .days(30), digest: DigestAlgorithm? = nil, authority: CertificateAuthority = TestSupport.authority) throws -> Certificate {
        try authority.issue(.device(name: "SEP1", keyAlgorithm: key.algorithm, validity: validity), for: key.publicKey, digest: digest)
    }

    @Test func acceptsTheKeysOutpostGenerates() throws {
        let policy = CertificatePolicy()
        for spec in [KeySpec.ecP256, .ecP384, .rsa2048] {
            let key = try PrivateKey(generating: spec)
            #expect(policy.violations(of: key).isEmpty)
            #expect(policy.violations(of: try Self.device(key)).isEmpty)
            try policy.check(try Self.device(key))
        }
    }

    @Test func rsa1024IsRefusedWithItsSize() throws {
        let weak = try PrivateKey(pemEncoded: TestSupport.rsa1024PEM)
        let policy = CertificatePolicy()
        #expect(policy.violations(of: weak).map(\.description) == ["RSA key of 1024 bits is below the 2048-bit floor"])
        let certificate = try Self.device(weak)
        let violations = policy.violations(of: certificate)
        #expect(violations.map(\.code) == [.keyTooSmall])
        do throws(PKIError) {
            try policy.check(certificate)
            Issue.record("RSA-1024 accepted")
        } catch {
            #expect(error.code == .policyViolation)
            #expect(error.reasons == ["RSA key of 1024 bits is below the 2048-bit floor"])
        }
        // A lower configured floor is honoured outside FIPS mode, never inside it.
        #expect(CertificatePolicy(minimumRSABits: 1024).violations(of: weak).isEmpty)
        #expect(CertificatePolicy(minimumRSABits: 1024, fipsMode: true).violations(of: weak).map(\.code) == [.keyTooSmall])
        #expect(CertificatePolicy(minimumRSABits: 3072).violations(of: try PrivateKey(generating: .rsa2048)).map(\.description)
                == ["RSA key of 2048 bits is below the 3072-bit floor"])
    }

    @Test func expiredAndNotYetValidAreRefusedWithTheDate() throws {
        let key = try PrivateKey(generating: .ecP256)
        let old = try Self.device(key, validity: Validity(
            notBefore: TestSupport.time("2025-01-01T00:00:00Z"), notAfter: TestSupport.time("2026-01-01T00:00:00Z")))
        let policy = TestSupport.policy(at: "2026-06-01T00:00:00Z")
        #expect(policy.violations(of: old).map(\.description) == ["expired on 2026-01-01T00:00:00Z"])
        #expect(policy.violations(of: old).map(\.code) == [.expired])
        #expect(TestSupport.policy(at: "2025-06-01T00:00:00Z").violations(of: old).isEmpty)
        #expect(TestSupport.policy(at: "2024-06-01T00:00:00Z").violations(of: old).map(\.description)
                == ["not valid before 2025-01-01T00:00:00Z"])
        // The boundary second is still valid.
        #expect(TestSupport.policy(at: "2026-01-01T00:00:00Z").violations(of: old).isEmpty)
    }

    @Test func sha1IsRefusedInFIPSModeOnly() throws {
        let rsaAuthority = try CertificateAuthority.createRoot(subject: DistinguishedName(commonName: "RSA CA"), key: try PrivateKey(generating: .rsa2048))
        let key = try PrivateKey(generating: .rsa2048)
        let sha1 = try Self.device(key, digest: .sha1, authority: rsaAuthority)
        #expect(CertificatePolicy().violations(of: sha1).isEmpty)
        let fips = CertificatePolicy(fipsMode: true)
        #expect(fips.violations(of: sha1).map(\.description) == ["signed with sha1WithRSAEncryption, refused in FIPS mode"])
        #expect(fips.violations(of: sha1).map(\.code) == [.weakSignature])
        #expect(fips.violations(of: try Self.device(key, authority: rsaAuthority)).isEmpty)
        #expect(!fips.allows(.sha1))
        #expect(fips.allows(.sha256))
        #expect(CertificatePolicy().allows(.sha1))
    }

    @Test func sha1FromTheOpenSSLCLI() throws {
        let directory = try TestSupport.scratchDirectory("sha1")
        defer { TestSupport.remove(directory) }
        let result = try TestSupport.openssl([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha1", "-keyout", "\(directory)/k.pem", "-out", "\(directory)/c.pem",
            "-days", "10", "-subj", "/CN=Legacy Manufacturing CA",
        ])
        #expect(result.status == 0, "\(result.output)")
        let legacyRoot = try Certificate(pemEncoded: try TestSupport.read("\(directory)/c.pem"))
        #expect(legacyRoot.signatureAlgorithm == "sha1WithRSAEncryption")
        let fips = CertificatePolicy(fipsMode: true)
        #expect(fips.violations(of: legacyRoot).map(\.code) == [.weakSignature])
        // As a trust anchor its own (self-)signature is not relied on.
        #expect(fips.violations(of: legacyRoot, as: .trustAnchor).isEmpty)
    }

    @Test func md5IsAlwaysRefused() throws {
        let directory = try TestSupport.scratchDirectory("md5")
        defer { TestSupport.remove(directory) }
        let result = try TestSupport.openssl([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-md5", "-keyout", "\(directory)/k.pem", "-out", "\(directory)/c.pem",
            "-days", "10", "-subj", "/CN=md5",
        ])
        try #require(result.status == 0, "\(result.output)")
        let certificate = try Certificate(pemEncoded: try TestSupport.read("\(directory)/c.pem"))
        #expect(CertificatePolicy().violations(of: certificate).map(\.description) == ["signed with md5WithRSAEncryption, which is refused"])
    }

    @Test func curvesAndKeyTypes() throws {
        let p521 = try PrivateKey(pemEncoded: try PrivateKeyFixtures.p521())
        #expect(CertificatePolicy().violations(of: p521).map(\.description) == ["EC key on curve P-521 is not allowed (allowed: P-256, P-384)"])
        #expect(CertificatePolicy(allowedCurves: [.p256, .p384, .p521]).violations(of: p521).isEmpty)
        let ed25519 = try PrivateKey(pemEncoded: try PrivateKeyFixtures.ed25519())
        #expect(CertificatePolicy().violations(of: ed25519).map(\.code) == [.keyTypeNotAllowed])
    }

    @Test func trustAnchorMustBeCA() throws {
        let key = try PrivateKey(generating: .ecP256)
        let leaf = try Self.device(key)
        #expect(CertificatePolicy().violations(of: leaf, as: .trustAnchor).map(\.code) == [.notCertificateAuthority])
        #expect(CertificatePolicy().violations(of: TestSupport.authority.certificate, as: .trustAnchor).isEmpty)
    }

    @Test func csrKeyFloor() throws {
        let weak = try CertificateSigningRequest(
            subject: DistinguishedName(commonName: "SEP1"), key: try PrivateKey(pemEncoded: TestSupport.rsa1024PEM))
        #expect(CertificatePolicy().violations(of: weak).map(\.code) == [.keyTooSmall])
    }
}

/// Keys of types Outpost never generates, made by the openssl CLI.
enum PrivateKeyFixtures {
    static func p521() throws -> String { try generate(["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521"]) }
    static func ed25519() throws -> String { try generate(["-algorithm", "ED25519"]) }

    private static func generate(_ arguments: [String]) throws -> String {
        let result = try TestSupport.openssl(["genpkey"] + arguments)
        guard result.status == 0 else { throw TestFailure(result.output) }
        return result.output
    }
}
