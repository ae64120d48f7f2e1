import NIOCore
import Testing

@testable import TLS

/// A peer's chain that verified at the handshake, checked again against reloaded trust: what
/// lets the runtime close a live connection whose certificate was revoked or whose root went.
@Suite struct TLSReverificationTests {
    let base = TLSConnectionTests()

    func server(trustRoots: String = "trusted.pem", crls: [String] = ["crl.pem", "rsa-crl.pem"]) throws -> TLSContext {
        var configuration = base.serverConfiguration()
        configuration.trustRootsPath = TestPKI.path(trustRoots)
        configuration.crlPaths = crls.map(TestPKI.path)
        return try TLSContext(configuration: configuration)
    }

    /// The phone's certificate as the server saw it after a completed handshake.
    func verifiedPhone(_ identity: String = "phone") throws -> TLSPeerCertificate {
        let (server, client, serverSide, _) = try base.handshake(server: base.serverConfiguration(), client: base.clientConfiguration(identity: identity))
        #expect(server == .complete)
        #expect(client == .complete)
        return try #require(serverSide.peerCertificate)
    }

    @Test func theStoredChainNamesTheCertificate() throws {
        let phone = try verifiedPhone()
        #expect(!phone.chain.isEmpty)
        #expect(phone.chain.allSatisfy { !$0.isEmpty })
        #expect(phone.serialNumber.count >= 4, "\(phone.serialNumber)")
        #expect(phone.issuer.contains("Outpost Test CA"))
    }

    @Test func aChainIsAcceptedAgainWhenNothingChanged() throws {
        let phone = try verifiedPhone()
        #expect(try server().reverify(phone) == nil)
    }

    @Test func aChainIsRefusedOnceItsLeafIsInTheCRL() throws {
        let phone = try verifiedPhone()
        let reason = try server(crls: ["crl-phone-revoked.pem", "rsa-crl.pem"]).reverify(phone)
        #expect(reason == "certificate revoked")
    }

    @Test func aChainIsRefusedOnceItsRootLeavesTheTrustStore() throws {
        let phone = try verifiedPhone()
        let reason = try server(trustRoots: "rsa-ca.pem", crls: ["rsa-crl.pem"]).reverify(phone)
        // The client's OpenSSL sends its root along (auto chain), as a handshake would show too.
        #expect(reason == "self-signed certificate in certificate chain")
    }

    @Test func aChainWhoseCRLDisappearedIsRefused() throws {
        // CRL checks cover the whole chain: with a CRL for another CA only, ca's is missing.
        let phone = try verifiedPhone()
        let reason = try server(crls: ["rsa-crl.pem"]).reverify(phone)
        #expect(reason == "unable to get certificate CRL")
    }

    @Test func nothingStoredIsRefused() throws {
        let bare = TLSPeerCertificate(commonName: "SEP001122334455", uris: [], dnsNames: [], subject: "", issuer: "")
        #expect(try server().reverify(bare) != nil)
    }
}
