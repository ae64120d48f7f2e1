import Foundation
import Runtime
import SIPTransport
import Testing

/// The edge's SIP/TLS listener against OpenSSL's own client, socat+sipp and hostile clients.
@Suite(.serialized) struct TLSInteropTests {
    static func options(port: Int) -> String {
        SIPProbe.options(port: port, transport: "TLS")
    }

    /// Sends one OPTIONS through `openssl s_client` and returns what came back.
    func sClient(_ edge: EdgeUnderTest, _ arguments: [String]) throws -> ExternalTool.Outcome {
        let request = NSTemporaryDirectory() + "options-\(UUID().uuidString).txt"
        try Self.options(port: edge.tlsPort).write(toFile: request, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: request) }
        let command = "(cat \(request); sleep 1) | openssl s_client -connect 127.0.0.1:\(edge.tlsPort) -quiet -no_ign_eof \(arguments.joined(separator: " "))"
        return try ExternalTool.run("/bin/bash", ["-c", command], timeout: .seconds(15))
    }

    func identity(_ name: String) -> [String] {
        ["-CAfile", IntegrationPKI.path("ca.pem"), "-cert", IntegrationPKI.path("\(name).pem"), "-key", IntegrationPKI.path("\(name).key")]
    }

    @Test(arguments: ["-tls1_2", "-tls1_3"])
    func phoneCertificateGetsItsOptionsAnswered(version: String) async throws {
        let edge = try await EdgeUnderTest.start(tls: IntegrationPKI.edgeTLS())
        let outcome = try sClient(edge, identity("phone") + [version, "-verify_return_error"])
        #expect(outcome.output.contains("SIP/2.0 200 OK"), "\(outcome.output)")
        #expect(edge.runtime.tlsStatistics.succeeded == 1)
        await edge.stop()
    }

    @Test(arguments: [
        ("stranger", "unable to get local issuer certificate"),
        ("expired", "certificate has expired"),
        ("revoked", "certificate revoked"),
        ("rsa1024", "EE certificate key too weak"),
        ("none", "no certificate"),
        ("tls1_1", "SSL routines::unsupported protocol"),
    ])
    func refusedClientsAreCountedWithTheirReason(client: String, reason: String) async throws {
        let edge = try await EdgeUnderTest.start(tls: IntegrationPKI.edgeTLS())
        var arguments: [String]
        switch client {
        case "none": arguments = ["-CAfile", IntegrationPKI.path("ca.pem")]
        case "tls1_1": arguments = identity("phone") + ["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"]
        // The client's own OpenSSL would refuse to use a 1024-bit key at its default level.
        case "rsa1024": arguments = identity(client) + ["-cipher", "DEFAULT@SECLEVEL=0"]
        default: arguments = identity(client)
        }
        let outcome = try sClient(edge, arguments)
        #expect(!outcome.output.contains("SIP/2.0 200"), "\(outcome.output)")
        try await Task.sleep(for: .milliseconds(100))
        #expect(edge.runtime.tlsStatistics.failures[reason] == 1, "\(edge.runtime.tlsStatistics.failures)")
        #expect(edge.runtime.tlsStatistics.succeeded == 0)
        await edge.stop()
    }

    @Test func aListenerWithOptionalClientCertificatesServesAClientWithout() async throws {
        let edge = try await EdgeUnderTest.start(tls: IntegrationPKI.edgeTLS(), tlsListenerClientCertificates: .optional)
        let anonymous = try sClient(edge, ["-CAfile", IntegrationPKI.path("ca.pem")])
        #expect(anonymous.output.contains("SIP/2.0 200 OK"), "\(anonymous.output)")
        // A certificate that is presented must still verify.
        _ = try sClient(edge, identity("expired"))
        try await Task.sleep(for: .milliseconds(100))
        #expect(edge.runtime.tlsStatistics.failures["certificate has expired"] == 1)
        await edge.stop()
    }

    @Test func aRevocationReachesTheRunningEdgeWithoutARestart() async throws {
        // A private copy: the shared test PKI must not change under the other tests.
        let copy = NSTemporaryDirectory() + "outpost-revoke-\(UUID().uuidString)"
        try FileManager.default.copyItem(atPath: IntegrationPKI.directory, toPath: copy)
        defer { try? FileManager.default.removeItem(atPath: copy) }
        let tls = OutpostConfiguration.TLS(
            certificate: "\(copy)/server.pem", key: "\(copy)/server.key", trustRoots: "\(copy)/trusted.pem",
            crls: ["\(copy)/crl.pem", "\(copy)/rsa-crl.pem"], reloadIntervalSeconds: 1)
        let edge = try await EdgeUnderTest.start(tls: tls)
        let before = try sClient(edge, identity("phone"))
        #expect(before.output.contains("SIP/2.0 200 OK"))

        let revoke = "cd \(copy) && export SAN=URI:sip:revoked@edge.test && openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -revoke phone.pem"
            + " && openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -gencrl -out crl.pem"
        let revoked = try ExternalTool.run("/bin/bash", ["-c", revoke], timeout: .seconds(20))
        #expect(revoked.status == 0, "\(revoked.output)")
        try await Task.sleep(for: .milliseconds(2500))

        let after = try sClient(edge, identity("phone"))
        #expect(!after.output.contains("SIP/2.0 200 OK"), "\(after.output)")
        try await Task.sleep(for: .milliseconds(100))
        #expect(edge.runtime.tlsStatistics.failures["certificate revoked"] == 1, "\(edge.runtime.tlsStatistics.failures)")
        await edge.stop()
    }

    @Test(arguments: ["-tls1_2", "-tls1_3"])
    func sessionTicketsLetAPhoneResume(version: String) async throws {
        let edge = try await EdgeUnderTest.start(tls: IntegrationPKI.edgeTLS())
        let session = NSTemporaryDirectory() + "session-\(UUID().uuidString).pem"
        defer { try? FileManager.default.removeItem(atPath: session) }
        let base = (["openssl", "s_client", "-connect", "127.0.0.1:\(edge.tlsPort)", version] + identity("phone")).joined(separator: " ")
        let first = try ExternalTool.run("/bin/bash", ["-c", "sleep 1 | \(base) -sess_out \(session)"], timeout: .seconds(15))
        #expect(first.output.contains("New, TLSv1."), "\(first.output.suffix(2000))")
        let second = try ExternalTool.run("/bin/bash", ["-c", "sleep 1 | \(base) -sess_in \(session)"], timeout: .seconds(15))
        #expect(second.output.contains("Reused, TLSv1."), "\(second.output.suffix(2000))")
        try await Task.sleep(for: .milliseconds(100))
        #expect(edge.runtime.tlsStatistics.succeeded == 2)
        #expect(edge.runtime.tlsStatistics.resumed == 1)
        await edge.stop()
    }

    @Test func sippOverMutualTLSThroughSocat() async throws {
        let sipp = try #require(ExternalTool.path("sipp"))
        let edge = try await EdgeUnderTest.start(tls: IntegrationPKI.edgeTLS())
        let relayPort = edge.port + 2
        let relay = try BackgroundTool.tlsRelay(listenPort: relayPort, tlsPort: edge.tlsPort)
        defer { relay.stop() }
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path
        let work = NSTemporaryDirectory() + "sipp-tls-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let outcome = try ExternalTool.run(
            sipp, ["127.0.0.1:\(relayPort)", "-sf", "\(fixtures)/sipp-options.xml", "-t", "t1", "-m", "20", "-r", "50",
                   "-timeout", "15s", "-nostdin", "-trace_err", "-error_file", "\(work)/errors.log"],
            timeout: .seconds(30), directory: work)
        #expect(outcome.status == 0, "\((try? String(contentsOfFile: "\(work)/errors.log", encoding: .utf8)) ?? outcome.output)")
        #expect(edge.runtime.tlsStatistics.succeeded >= 1)
        await edge.stop()
    }

    @Test func stalledHandshakeIsTimedOutAndGarbageRefused() async throws {
        let edge = try await EdgeUnderTest.start(tls: IntegrationPKI.edgeTLS(handshakeTimeoutSeconds: 1))
        let stalled = try LoopbackSocket(udp: false, port: edge.tlsPort, receiveTimeout: 3)
        // The first bytes of a ClientHello record, then silence.
        stalled.send([0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
        let garbage = try LoopbackSocket(udp: false, port: edge.tlsPort)
        garbage.send(Array("OPTIONS sip:x SIP/2.0\r\n\r\n".utf8))
        #expect(garbage.peerClosed())
        #expect(stalled.peerClosed())
        try await Task.sleep(for: .milliseconds(100))
        let failures = edge.runtime.tlsStatistics.failures
        #expect(failures.keys.contains { $0.hasPrefix("handshake not completed within") }, "\(failures)")
        #expect(failures.keys.contains { $0.contains("wrong version number") || $0.contains("http request") || $0.contains("record") }, "\(failures)")
        #expect(edge.runtime.connections.count(of: .tls) == 0)
        let outcome = try sClient(edge, identity("phone"))
        #expect(outcome.output.contains("SIP/2.0 200 OK"))
        await edge.stop()
    }
}
