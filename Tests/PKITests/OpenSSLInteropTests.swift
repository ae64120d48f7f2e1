import Foundation
import PKI
import Testing

/// What the openssl CLI (the same library, another front end) says about the store's output.
@Suite("PKI: interop with the openssl CLI")
struct OpenSSLInteropTests {
    @Test func verifyAcceptsIssuedAndRefusesRevoked() throws {
        let (store, directory) = try PKIStoreTests.initialisedStore()
        defer { TestSupport.remove(directory) }
        let good = try store.issueDevice(name: "SEPGOOD", key: .generate(.rsa2048))
        let bad = try store.issueDevice(name: "SEPBAD", key: .generate(.ecP256))
        try store.revoke(device: "SEPBAD", reason: .keyCompromise)
        try TestSupport.write(try good.certificate.pemEncoded(), to: "\(directory)/good.pem")
        try TestSupport.write(try bad.certificate.pemEncoded(), to: "\(directory)/bad.pem")
        let layout = store.layout
        func verify(_ path: String, purpose: String? = nil) throws -> (status: Int32, output: String) {
            try TestSupport.openssl(
                ["verify", "-CAfile", layout.authorityCertificate, "-crl_check", "-CRLfile", layout.revocationList]
                    + (purpose.map { ["-purpose", $0] } ?? []) + [path])
        }
        let accepted = try verify("\(directory)/good.pem", purpose: "sslclient")
        #expect(accepted.status == 0, "\(accepted.output)")
        #expect(accepted.output.contains("good.pem: OK"))
        let refused = try verify("\(directory)/bad.pem")
        #expect(refused.status != 0)
        #expect(refused.output.contains("certificate revoked"))
        // A device certificate is not a server certificate; the SRST one is both.
        #expect(try verify("\(directory)/good.pem", purpose: "sslserver").status != 0)
        #expect(try verify(layout.serverCertificate, purpose: "sslserver").status == 0)
        #expect(try verify(layout.serverCertificate, purpose: "sslclient").status == 0)
        // CRL_CHECK_ALL (what the TLS layer sets): the edge CA's own CRL covers the whole chain.
        let all = try TestSupport.openssl(["verify", "-CAfile", layout.caBundle, "-crl_check_all", "-CRLfile", layout.revocationList,
                                           "\(directory)/good.pem", layout.serverCertificate])
        #expect(all.status == 0, "\(all.output)")
        let allRevoked = try TestSupport.openssl(["verify", "-CAfile", layout.caBundle, "-crl_check_all", "-CRLfile", layout.revocationList,
                                                  "\(directory)/bad.pem"])
        #expect(allRevoked.status != 0)
        #expect(allRevoked.output.contains("certificate revoked"))
        // With the CA bundle as well.
        let bundled = try TestSupport.openssl(["verify", "-CAfile", layout.caBundle, "-crl_check", "-CRLfile", layout.revocationList, "\(directory)/good.pem"])
        #expect(bundled.status == 0, "\(bundled.output)")
    }

    @Test func textShowsTheNamesAndUsagesSet() throws {
        let (store, _directory) = try PKIStoreTests.initialisedStore()
        defer { TestSupport.remove(_directory) }
        let server = try TestSupport.openssl(["x509", "-in", store.layout.serverCertificate, "-noout", "-text"])
        #expect(server.output.contains("DNS:srst.branch.example, IP Address:10.0.0.5"))
        #expect(server.output.contains("TLS Web Server Authentication, TLS Web Client Authentication"))
        #expect(server.output.contains("CA:FALSE"))
        #expect(server.output.contains("X509v3 Subject Key Identifier"))
        #expect(server.output.contains("X509v3 Authority Key Identifier"))
        let ca = try TestSupport.openssl(["x509", "-in", store.layout.authorityCertificate, "-noout", "-text"])
        #expect(ca.output.contains("CA:TRUE, pathlen:0"))
        #expect(ca.output.contains("Certificate Sign, CRL Sign"))
        #expect(ca.output.contains("NIST CURVE: P-384"))
        let device = try store.issueDevice(name: "SEP001122334455", key: .generate(.ecP256), uri: "sip:SEP001122334455@branch.example")
        try TestSupport.write(try device.certificate.pemEncoded(), to: "\(_directory)/device.pem")
        let text = try TestSupport.openssl(["x509", "-in", "\(_directory)/device.pem", "-noout", "-text"])
        #expect(text.output.contains("Subject: O = Outpost, CN = SEP001122334455"))
        #expect(text.output.contains("TLS Web Client Authentication"))
        #expect(!text.output.contains("TLS Web Server Authentication"))
        #expect(text.output.contains("URI:sip:SEP001122334455@branch.example"))
        let sast = try TestSupport.openssl(["x509", "-in", store.layout.signerCertificate, "-noout", "-text"])
        #expect(sast.output.contains("Digital Signature"))
        #expect(sast.output.contains("Public-Key: (2048 bit)"))
    }

    @Test func opensslReqCSRIsAccepted() throws {
        let (store, directory) = try PKIStoreTests.initialisedStore()
        defer { TestSupport.remove(directory) }
        for (subject, name) in [("/CN=SEPAABBCCDDEEFF", "SEPAABBCCDDEEFF"), ("/O=Phones", "SEP0000000000AA")] {
            let result = try TestSupport.openssl([
                "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "\(directory)/\(name).key",
                "-out", "\(directory)/\(name).csr", "-subj", subject,
            ])
            try #require(result.status == 0, "\(result.output)")
            let request = try CertificateSigningRequest(pemEncoded: try TestSupport.read("\(directory)/\(name).csr"))
            let issued = try store.issueDevice(name: name, key: .request(request))
            #expect(issued.certificate.subjectCommonName == name)
            try TestSupport.write(try issued.certificate.pemEncoded(), to: "\(directory)/\(name).pem")
            // The certificate belongs to the key openssl generated.
            let modulus = try TestSupport.openssl(["x509", "-in", "\(directory)/\(name).pem", "-noout", "-pubkey"])
            let fromKey = try TestSupport.openssl(["pkey", "-in", "\(directory)/\(name).key", "-pubout"])
            #expect(modulus.output == fromKey.output)
            let verify = try TestSupport.openssl(["verify", "-CAfile", store.layout.caBundle, "\(directory)/\(name).pem"])
            #expect(verify.status == 0, "\(verify.output)")
        }
    }

    @Test func sastSignatureVerifiesWithOpenSSL() throws {
        let (store, directory) = try PKIStoreTests.initialisedStore()
        defer { TestSupport.remove(directory) }
        let message = Array("CTLFile.tlv without its signature".utf8)
        let signature = try store.trustListSigner().sign(message, digest: .sha256)
        try TestSupport.write(bytes: message, to: "\(directory)/ctl")
        try TestSupport.write(bytes: signature, to: "\(directory)/ctl.sig")
        let key = try TestSupport.openssl(["x509", "-in", store.layout.signerCertificate, "-noout", "-pubkey"])
        try TestSupport.write(key.output, to: "\(directory)/sast.pub")
        let result = try TestSupport.openssl(["pkeyutl", "-verify", "-pubin", "-inkey", "\(directory)/sast.pub",
                                              "-rawin", "-digest", "sha256", "-in", "\(directory)/ctl", "-sigfile", "\(directory)/ctl.sig",
                                              "-pkeyopt", "rsa_padding_mode:pkcs1"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("Signature Verified Successfully"))
    }
}
