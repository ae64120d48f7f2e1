import Foundation
import NIOCore
import Synchronization
import Testing

@testable import TLS

/// Client and server `TLSConnection`s wired back to back in memory: no sockets, every byte of
/// ciphertext passed by hand.
@Suite struct TLSConnectionTests {
    let allocator = ByteBufferAllocator()

    func serverConfiguration(verification: TLSConfiguration.PeerVerification = .required, fips: Bool = false, crl: Bool = true) -> TLSConfiguration {
        TLSConfiguration(
            role: .server, certificateChainPath: TestPKI.path("server.pem"), privateKeyPath: TestPKI.path("server.key"),
            trustRootsPath: TestPKI.path("trusted.pem"), crlPaths: crl ? [TestPKI.path("crl.pem"), TestPKI.path("rsa-crl.pem")] : [],
            peerVerification: verification, fipsMode: fips)
    }

    func clientConfiguration(identity: String?, minimum: TLSConfiguration.Version = .tls12, cipherSuites: String = TLSConfiguration.defaultCipherSuites) -> TLSConfiguration {
        TLSConfiguration(
            role: .client, certificateChainPath: identity.map { TestPKI.path("\($0).pem") },
            privateKeyPath: identity.map { TestPKI.path("\($0).key") }, trustRootsPath: TestPKI.path("ca.pem"),
            minimumVersion: minimum, cipherSuites: cipherSuites, serverName: "edge.test")
    }

    /// Runs both handshakes to an end; returns the server's and the client's outcome.
    func handshake(server: TLSConfiguration, client: TLSConfiguration) throws -> (TLSConnection.Progress, TLSConnection.Progress, TLSConnection, TLSConnection) {
        let serverSide = try TLSConnection(context: try TLSContext(configuration: server), allocator: allocator)
        let clientSide = try TLSConnection(context: try TLSContext(configuration: client), allocator: allocator)
        var serverProgress = TLSConnection.Progress.incomplete
        var clientProgress = clientSide.handshake()
        for _ in 0..<10 {
            if let bytes = clientSide.takeCiphertext() {
                serverSide.receive(bytes)
                if case .incomplete = serverProgress { serverProgress = serverSide.handshake() }
            }
            if let bytes = serverSide.takeCiphertext() {
                clientSide.receive(bytes)
                if case .incomplete = clientProgress { clientProgress = clientSide.handshake() }
            }
            if case .incomplete = serverProgress { continue }
            if case .incomplete = clientProgress { continue }
            break
        }
        return (serverProgress, clientProgress, serverSide, clientSide)
    }

    @Test func mutualHandshakeExposesThePhoneIdentityAndCarriesData() throws {
        let (server, client, serverSide, clientSide) = try handshake(server: serverConfiguration(), client: clientConfiguration(identity: "phone"))
        #expect(server == .complete)
        #expect(client == .complete)
        #expect(serverSide.negotiatedVersion == "TLSv1.3")
        let peer = try #require(serverSide.peerCertificate)
        #expect(peer.commonName == "SEP001122334455")
        #expect(peer.uris == ["sip:2001@edge.test"])
        #expect(clientSide.peerCertificate?.dnsNames == ["edge.test"])

        try clientSide.writePlaintext(allocator.buffer(string: "OPTIONS sip:edge.test SIP/2.0\r\n\r\n"))
        serverSide.receive(try #require(clientSide.takeCiphertext()))
        guard case .data(let plaintext) = serverSide.readPlaintext(allocator: allocator) else {
            Issue.record("no plaintext")
            return
        }
        #expect(String(buffer: plaintext) == "OPTIONS sip:edge.test SIP/2.0\r\n\r\n")
    }

    @Test func tls12WithAnAEADSuiteWorks() throws {
        var client = clientConfiguration(identity: "phone")
        client.cipherSuites = "TLS_AES_128_GCM_SHA256"
        var server = serverConfiguration()
        server.minimumVersion = .tls12
        let (serverOutcome, _, serverSide, _) = try handshake(server: server, client: tlsTwelveOnly(client))
        #expect(serverOutcome == .complete)
        #expect(serverSide.negotiatedVersion == "TLSv1.2")
        #expect(serverSide.negotiatedCipher.contains("GCM"))
    }

    /// Each connection's BIO serves both directions and must be freed exactly once, by SSL_free,
    /// whether the handshake succeeded, carried data or was refused.
    @Test func everyConnectionsBIOIsFreedExactlyOnceWithItsConnection() throws {
        let census = ByteBufferBIO.Census()
        let rounds = 8
        try ByteBufferBIO.$census.withValue(census) {
            for round in 0..<rounds {
                let identity = round.isMultiple(of: 2) ? "phone" : "stranger"
                let (server, _, serverSide, clientSide) = try handshake(server: serverConfiguration(), client: clientConfiguration(identity: identity))
                withExtendedLifetime((serverSide, clientSide)) {
                    #expect(census.live == 2, "both connections of round \(round) hold their BIO")
                }
                if server == .complete {
                    try clientSide.writePlaintext(allocator.buffer(string: "OPTIONS sip:edge.test SIP/2.0\r\n\r\n"))
                    serverSide.receive(try #require(clientSide.takeCiphertext()))
                    _ = serverSide.readPlaintext(allocator: allocator)
                    serverSide.shutdown()
                }
            }
        }
        #expect(census.created.load(ordering: .relaxed) == 2 * rounds)
        #expect(census.destroyed.load(ordering: .relaxed) == census.created.load(ordering: .relaxed))
        #expect(census.live == 0)
    }

    /// A short message comes back in a buffer its own size; a long one, split into records,
    /// comes back whole and in order, one record per read.
    @Test func plaintextBuffersAreSizedToTheRecord() throws {
        let (_, _, serverSide, clientSide) = try handshake(server: serverConfiguration(), client: clientConfiguration(identity: "phone"))
        #expect(serverSide.readPlaintext(allocator: allocator) == .wantMore)
        try clientSide.writePlaintext(allocator.buffer(string: "OPTIONS sip:edge.test SIP/2.0\r\n\r\n"))
        serverSide.receive(try #require(clientSide.takeCiphertext()))
        guard case .data(let short) = serverSide.readPlaintext(allocator: allocator) else {
            Issue.record("no plaintext")
            return
        }
        #expect(String(buffer: short) == "OPTIONS sip:edge.test SIP/2.0\r\n\r\n")
        #expect(short.capacity < 1024, "capacity \(short.capacity)")
        #expect(serverSide.readPlaintext(allocator: allocator) == .wantMore)

        let long = (0..<40_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        try clientSide.writePlaintext(allocator.buffer(bytes: long))
        serverSide.receive(try #require(clientSide.takeCiphertext()))
        var received: [UInt8] = []
        var reads = 0
        while case .data(let chunk) = serverSide.readPlaintext(allocator: allocator) {
            #expect(chunk.readableBytes <= 16_384)
            received += chunk.readableBytesView
            reads += 1
        }
        #expect(received == long)
        #expect(reads == 3)

        clientSide.shutdown()
        serverSide.receive(try #require(clientSide.takeCiphertext()))
        #expect(serverSide.readPlaintext(allocator: allocator) == .closed)
    }

    /// A client capped at TLS 1.2, which the configuration type does not offer for the edge itself.
    func tlsTwelveOnly(_ configuration: TLSConfiguration) -> TLSConfiguration {
        var copy = configuration
        copy.cipherSuites = "TLS_AES_128_GCM_SHA256"
        copy.maximumVersion = .tls12
        return copy
    }

    @Test(arguments: [
        ("stranger", "unable to get local issuer certificate"),
        ("expired", "certificate has expired"),
        ("revoked", "certificate revoked"),
        ("rsa1024", "EE certificate key too weak"),
    ])
    func refusedCertificatesSayWhy(identity: String, reason: String) throws {
        let (server, _, _, _) = try handshake(server: serverConfiguration(), client: clientConfiguration(identity: identity))
        guard case .failed(let error) = server else {
            Issue.record("\(identity) accepted")
            return
        }
        #expect(error.kind == .certificateRefused)
        #expect(error.label == reason, "\(error)")
    }

    /// A server trusting other-ca beside the CA, with the CRLs of the CA and the RSA CA and,
    /// when asked, other-ca's CRL (which revokes stranger).
    func serverTrustingOtherCA(crlOptional: Bool, otherCRL: Bool = false) throws -> TLSConfiguration {
        var configuration = serverConfiguration()
        configuration.trustRootsPath = TestPKI.path("trusted-with-other.pem")
        if otherCRL { configuration.crlPaths.append(TestPKI.path("other-crl.pem")) }
        if crlOptional {
            let fingerprint = try String(contentsOfFile: TestPKI.path("other-ca.sha256"), encoding: .utf8)
            // The colon-separated lowercase spelling of `openssl x509 -fingerprint` is accepted too.
            let pairs = stride(from: 0, to: 64, by: 2).map { fingerprint.dropFirst($0).prefix(2) }
            configuration.crlOptionalRoots = [pairs.joined(separator: ":").lowercased()]
        }
        return configuration
    }

    func refusal(_ progress: TLSConnection.Progress) -> TLSError? {
        if case .failed(let error) = progress { return error }
        return nil
    }

    @Test func aRootWithoutCRLIsRefusedUnlessItsCRLIsOptional() throws {
        let (required, _, _, _) = try handshake(server: try serverTrustingOtherCA(crlOptional: false), client: clientConfiguration(identity: "stranger"))
        let error = try #require(refusal(required), "accepted without a CRL")
        #expect(error.kind == .certificateRefused)
        #expect(error.label == "unable to get certificate CRL", "\(error)")

        let (optional, _, serverSide, _) = try handshake(server: try serverTrustingOtherCA(crlOptional: true), client: clientConfiguration(identity: "stranger"))
        #expect(optional == .complete, "\(String(describing: refusal(optional)))")
        #expect(serverSide.peerCertificate?.commonName == "SEP0000STRANGER")
        // The CA's own peers still need its CRL and still get it checked.
        let (revoked, _, _, _) = try handshake(server: try serverTrustingOtherCA(crlOptional: true), client: clientConfiguration(identity: "revoked"))
        #expect(refusal(revoked)?.label == "certificate revoked")
    }

    @Test func aCRLOptionalRootsCRLIsStillChecked() throws {
        let (server, _, _, _) = try handshake(
            server: try serverTrustingOtherCA(crlOptional: true, otherCRL: true), client: clientConfiguration(identity: "stranger"))
        let error = try #require(refusal(server), "revoked certificate accepted")
        #expect(error.kind == .certificateRefused)
        #expect(error.label == "certificate revoked", "\(error)")
    }

    @Test func aCRLOptionalRootForgivesOnlyTheMissingCRL() throws {
        // Optional CRLs for the CA do not let an expired certificate or a weak key through.
        var configuration = serverConfiguration(crl: true)
        configuration.crlPaths = [TestPKI.path("rsa-crl.pem")]
        configuration.crlOptionalRoots = [try caFingerprint()]
        let (phone, _, _, _) = try handshake(server: configuration, client: clientConfiguration(identity: "phone"))
        #expect(phone == .complete, "\(String(describing: refusal(phone)))")
        for (identity, reason) in [("expired", "certificate has expired"), ("rsa1024", "EE certificate key too weak")] {
            let (server, _, _, _) = try handshake(server: configuration, client: clientConfiguration(identity: identity))
            #expect(refusal(server)?.label == reason, "\(identity)")
        }
    }

    /// The test CA's SHA-256 fingerprint, from the openssl CLI.
    func caFingerprint() throws -> String {
        let process = Process()
        let pipe = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = ["x509", "-in", TestPKI.path("ca.pem"), "-noout", "-fingerprint", "-sha256"]
        process.standardOutput = pipe
        try process.run()
        process.waitUntilExit()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return String(try #require(output.split(separator: "=").last)).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func missingClientCertificateIsRefusedWhenRequiredAndAcceptedWhenOptional() throws {
        let (required, _, _, _) = try handshake(server: serverConfiguration(), client: clientConfiguration(identity: nil))
        guard case .failed(let error) = required else {
            Issue.record("accepted without a certificate")
            return
        }
        #expect(error.kind == .noPeerCertificate)
        let (optional, _, serverSide, _) = try handshake(server: serverConfiguration(verification: .optional), client: clientConfiguration(identity: nil))
        #expect(optional == .complete)
        #expect(serverSide.peerCertificate == nil)
    }

    @Test func sha1SignedCertificateIsRefusedOnlyInFIPSMode() throws {
        let (normal, _, serverSide, _) = try handshake(server: serverConfiguration(), client: clientConfiguration(identity: "sha1"))
        #expect(normal == .complete)
        #expect(serverSide.peerCertificate?.commonName == "SEP000000000SHA1")
        let (fips, _, _, _) = try handshake(server: serverConfiguration(fips: true), client: clientConfiguration(identity: "sha1"))
        guard case .failed(let error) = fips else {
            Issue.record("SHA-1 accepted in FIPS mode")
            return
        }
        #expect(error.label == "CA signature digest algorithm too weak", "\(error)")
    }

    @Test func misconfigurationCarriesOpenSSLReasons() {
        var bad = serverConfiguration()
        bad.privateKeyPath = TestPKI.path("phone.key")
        #expect(throws: TLSError.self) { try TLSContext(configuration: bad) }
        do {
            _ = try TLSContext(configuration: bad)
        } catch {
            #expect(error.kind == .configuration)
            #expect(error.reasons.contains { $0.contains("key values mismatch") }, "\(error)")
            #expect(error.reasons.count > 1, "OpenSSL's own reason follows ours: \(error)")
        }
        var ciphers = serverConfiguration()
        ciphers.cipherList = "NOT-A-CIPHER"
        #expect(throws: TLSError.self) { try TLSContext(configuration: ciphers) }
    }
}
