import PKI
import Testing

@Suite("PKI: OpenSSL keys")
struct PrivateKeyTests {
    @Test func reportsOpenSSL3Version() {
        #expect(OpenSSLLibrary.versionString.hasPrefix("OpenSSL 3"))
        #expect(OpenSSLLibrary.versionNumber >= 0x3000_0000)
    }

    @Test(arguments: KeySpec.allCases)
    func generatesEachKeyType(spec: KeySpec) throws {
        let key = try PrivateKey(generating: spec)
        switch spec {
        case .ecP256:
            #expect(key.algorithm == .ec(.p256))
            #expect(key.bits == 256)
            #expect(key.securityBits == 128)
        case .ecP384:
            #expect(key.algorithm == .ec(.p384))
            #expect(key.bits == 384)
            #expect(key.securityBits == 192)
        case .rsa2048:
            #expect(key.algorithm == .rsa)
            #expect(key.bits == 2048)
            #expect(key.securityBits == 112)
        case .rsa3072:
            #expect(key.algorithm == .rsa)
            #expect(key.bits == 3072)
        case .rsa4096:
            #expect(key.algorithm == .rsa)
            #expect(key.bits == 4096)
        }
        #expect(!key.description.contains("PRIVATE"))
    }

    @Test(arguments: [KeySpec.ecP256, .ecP384, .rsa2048])
    func pkcs8PEMRoundTrip(spec: KeySpec) throws {
        let key = try PrivateKey(generating: spec)
        let pem = try key.pkcs8PEM()
        #expect(pem.hasPrefix("-----BEGIN PRIVATE KEY-----\n"))
        #expect(pem.hasSuffix("-----END PRIVATE KEY-----\n"))

        let decoded = try PrivateKey(pemEncoded: pem)
        #expect(decoded == key)
        #expect(decoded.algorithm == key.algorithm)
        #expect(decoded.bits == key.bits)
        #expect(try decoded.pkcs8PEM() == pem)
        #expect(try decoded.publicKeyPEM() == key.publicKeyPEM())
        #expect(try key.publicKeyPEM().hasPrefix("-----BEGIN PUBLIC KEY-----\n"))
    }

    @Test func differentKeysAreNotEqual() throws {
        #expect(try PrivateKey(generating: .ecP256) != PrivateKey(generating: .ecP256))
    }

    @Test(arguments: [
        "not a key at all",
        "-----BEGIN PRIVATE KEY-----\nAAAA!!!!notbase64\n-----END PRIVATE KEY-----\n",
        "",
    ])
    func garbagePEMIsRefusedWithOpenSSLText(pem: String) {
        do throws(PKIError) {
            _ = try PrivateKey(pemEncoded: pem)
            Issue.record("garbage was accepted as a key")
        } catch {
            #expect(error.code == .decodingFailed)
            #expect(error.operation == "PEM_read_bio_PrivateKey_ex")
            // The text is OpenSSL's own: "error:<hex code>:<library> routines:<function>:<reason>".
            #expect(!error.reasons.isEmpty)
            #expect(error.reasons.allSatisfy { $0.hasPrefix("error:") && $0.contains("routines") })
            #expect(error.description.contains(error.reasons[0]))
        }
    }

    @Test func encryptedPEMIsRefusedWithoutPrompting() {
        #expect(throws: PKIError.self) { try PrivateKey(pemEncoded: Self.encryptedP256PEM) }
    }

    @Test func rsa1024KeySizeIsReported() throws {
        let key = try PrivateKey(pemEncoded: TestSupport.rsa1024PEM)
        #expect(key.algorithm == .rsa)
        #expect(key.bits == 1024)
        #expect(key.securityBits == 80)
    }


    /// `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -aes-128-cbc -pass pass:secret`.
    static let encryptedP256PEM = """
        -----BEGIN ENCRYPTED PRIVATE KEY-----
        MIHsMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAgxcfb08hqhXgICCAAw
        DAYIKoZIhvcNAgkFADAdBglghkgBZQMEAQIEEI98owjgqKd0DFfgDSEpc3kEgZDw
        Bgd8TC744ZvLyWbmmX5q9Gn/cbLcUR4PUZATSFPcngO0uXj+MnGIz9uS78+P6E2K
        4lOYqT34K85ryiVA+x7JlqqSofJbWp4i7Mb+rWWZStFRjS5MfjL/L6+dSWITGe9p
        ZKADHGY3gWyrhYAl0d2mXs96jezbOZ7gujI3fJ9CYQghWbDghVGovdHK4MNbSao=
        -----END ENCRYPTED PRIVATE KEY-----

        """
}
