import Edge
import Foundation
import PKI
import Runtime
import SIP
import Testing

/// The edge as the registrar (no trunk: always survivable) for independent peers: sipp with
/// digest over UDP and TCP, sipp over mutual TLS through socat, and hostile REGISTERs.
@Suite(.serialized) struct RegistrarInteropTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

    /// The test PKI's phone certificate is SEP001122334455; SEP00AABBCCDDEE is another phone.
    static func inventory(_ configuration: inout OutpostConfiguration) {
        configuration.devices = [
            Device(name: "SEP001122334455", lines: [DeviceLine(number: "2001")], security: .encrypted),
            Device(name: "SEP00AABBCCDDEE", lines: [DeviceLine(number: "2002")], security: .authenticated),
            Device(name: "soft-3001", lines: [DeviceLine(number: "3001")], security: .nonSecure, digest: DigestAccount(username: "3001", password: "s3cret")),
        ]
        // sipp answers only the first challenge and computes only MD5.
        configuration.registrar.digestAlgorithms = [.md5, .sha256]
        configuration.registrar.ratePerSource = 50
    }

    static func sipp(_ arguments: [String], work: String) throws -> (ExternalTool.Outcome, String) {
        let sipp = try #require(ExternalTool.path("sipp"), "sipp (sip-tester) is installed by appliance/install-deps")
        let outcome = try ExternalTool.run(
            sipp, arguments + ["-nostdin", "-timeout", "15s", "-trace_err", "-error_file", "\(work)/errors.log", "-trace_msg", "-message_file", "\(work)/messages.log"],
            timeout: .seconds(30), directory: work)
        let messages = (try? String(contentsOfFile: "\(work)/messages.log", encoding: .utf8)) ?? ""
        let errors = (try? String(contentsOfFile: "\(work)/errors.log", encoding: .utf8)) ?? ""
        return (outcome, messages + errors)
    }

    static func workDirectory() throws -> String {
        let work = NSTemporaryDirectory() + "sipp-reg-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        return work
    }

    @Test(arguments: ["u1", "t1"])
    func sippRegistersWithDigest(transport: String) async throws {
        let edge = try await EdgeUnderTest.start(configure: Self.inventory)
        let work = try Self.workDirectory()
        defer { try? FileManager.default.removeItem(atPath: work) }
        let (outcome, log) = try Self.sipp(
            ["127.0.0.1:\(edge.port)", "-sf", "\(Self.fixtures)/sipp-register-digest.xml", "-t", transport, "-s", "3001", "-au", "3001", "-ap", "s3cret", "-m", "1"],
            work: work)
        #expect(outcome.status == 0, "\(log.suffix(3000))")
        let registrar = try #require(edge.runtime.registrar)
        let binding = try #require(registrar.bindings(for: "3001").first)
        #expect(binding.device == "soft-3001")
        #expect(binding.flow.transport == (transport == "u1" ? .udp : .tcp))
        #expect(binding.userAgent == "sipp")
        #expect(registrar.statistics[.challenged] == 1)

        let (wrong, wrongLog) = try Self.sipp(
            ["127.0.0.1:\(edge.port)", "-sf", "\(Self.fixtures)/sipp-register-digest.xml", "-t", transport, "-s", "3001", "-au", "3001", "-ap", "guess", "-m", "1"],
            work: work)
        #expect(wrong.status != 0)
        #expect(wrongLog.contains("SIP/2.0 403 Forbidden"))
        await edge.stop()
    }

    @Test func sippOverMutualTLSRegistersItsOwnLineOnly() async throws {
        let edge = try await EdgeUnderTest.start(tls: IntegrationPKI.edgeTLS(), configure: Self.inventory)
        let relayPort = edge.port + 2
        let relay = try BackgroundTool.tlsRelay(listenPort: relayPort, tlsPort: edge.tlsPort)
        defer { relay.stop() }
        let work = try Self.workDirectory()
        defer { try? FileManager.default.removeItem(atPath: work) }

        let (own, ownLog) = try Self.sipp(
            ["127.0.0.1:\(relayPort)", "-sf", "\(Self.fixtures)/sipp-register-certificate.xml", "-t", "t1", "-s", "2001", "-m", "1"], work: work)
        #expect(own.status == 0, "\(ownLog.suffix(3000))")
        #expect(ownLog.contains("SIP/2.0 200 OK"))
        let registrar = try #require(edge.runtime.registrar)
        let binding = try #require(registrar.bindings(for: "2001").first)
        #expect(binding.flow.transport == .tls)
        #expect(binding.flow.connection != nil)

        try? FileManager.default.removeItem(atPath: "\(work)/messages.log")
        let (_, otherLog) = try Self.sipp(
            ["127.0.0.1:\(relayPort)", "-sf", "\(Self.fixtures)/sipp-register-certificate.xml", "-t", "t1", "-s", "2002", "-m", "1"], work: work)
        #expect(otherLog.contains("SIP/2.0 403 Forbidden (certificate identity SEP001122334455 does not own line 2002)"), "\(otherLog.suffix(2000))")
        #expect(registrar.bindings(for: "2002").isEmpty)
        #expect(registrar.statistics[.certificateMismatches] == 1)
        await edge.stop()
    }

    static func register(port: Int, user: String, callID: String, headers: String = "", contacts: String? = nil) -> String {
        "REGISTER sip:edge.test SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK\(UUID().uuidString.prefix(12));rport\r\nMax-Forwards: 70\r\n"
            + "From: <sip:\(user)@edge.test>;tag=1\r\nTo: <sip:\(user)@edge.test>\r\nCall-ID: \(callID)\r\nCSeq: 1 REGISTER\r\n"
            + (contacts ?? "Contact: <sip:\(user)@127.0.0.1:5999>\r\n") + headers + "Content-Length: 0\r\n\r\n"
    }

    @Test func hostileRegistersGetClearAnswersAndTheEdgeKeepsServing() async throws {
        let edge = try await EdgeUnderTest.start(configure: Self.inventory)
        let socket = try LoopbackSocket(udp: true, port: edge.port, receiveTimeout: 2)

        // 10,000 Contact header fields (280 kB) cannot fit a message: refused as too large, over TCP.
        let stream = try LoopbackSocket(udp: false, port: edge.port, receiveTimeout: 3)
        let bomb = String(repeating: "Contact: <sip:x@127.0.0.1>\r\n", count: 10_000)
        _ = stream.send(Self.register(port: edge.port, user: "3001", callID: "bomb", contacts: bomb))
        let bombAnswer = try #require(stream.receive())
        #expect(bombAnswer.hasPrefix("SIP/2.0 513"), "\(bombAnswer.prefix(200))")
        #expect(stream.peerClosed())

        // 2,000 contacts that do fit (one header, over UDP): refused by the per-line limit, once authorised.
        let many = (0..<4).map { line in "Contact: " + (0..<500).map { "<sip:c\(line)x\($0)@h>" }.joined(separator: ",") + "\r\n" }.joined()
        _ = socket.send(Self.register(port: edge.port, user: "3001", callID: "many", contacts: many))
        let challenge = try #require(socket.receive())
        #expect(challenge.hasPrefix("SIP/2.0 401"), "\(challenge.prefix(200))")
        let offered = try #require(try SIPMessage(parsing: Array(challenge.utf8)).response?.headers.digestChallenges().first)
        let credentials = try DigestCredentials.answering(
            offered, username: "3001", password: "s3cret", method: "REGISTER", uri: "sip:edge.test", cnonce: "c",
            using: OpenSSLDigests.hashing(fipsMode: false))
        _ = socket.send(Self.register(port: edge.port, user: "3001", callID: "many", headers: "Authorization: \(credentials)\r\n", contacts: many))
        let refused = try #require(socket.receive())
        #expect(refused.hasPrefix("SIP/2.0 403 Forbidden (more than 10 contacts for 3001)"), "\(refused.prefix(200))")

        // An absurd Expires is refused with the header named.
        _ = socket.send(Self.register(port: edge.port, user: "3001", callID: "absurd", headers: "Expires: 99999999999999999999\r\n"))
        let absurd = try #require(socket.receive())
        #expect(absurd.hasPrefix("SIP/2.0 400 Bad Expires"), "\(absurd.prefix(200))")

        // A flood from one address: beyond 50 per second, 503 with Retry-After.
        for index in 0..<120 { _ = socket.send(Self.register(port: edge.port, user: "3001", callID: "flood-\(index)")) }
        var statuses: [String] = []
        while statuses.count < 120, let answer = socket.receive() { statuses.append(String(answer.prefix(12))) }
        let limited = statuses.filter { $0 == "SIP/2.0 503 " }.count
        #expect(limited >= 50, "\(Dictionary(grouping: statuses, by: { $0 }).mapValues(\.count))")
        #expect(statuses.filter { $0 == "SIP/2.0 401 " }.count >= 1)
        let registrar = try #require(edge.runtime.registrar)
        #expect(registrar.statistics[.rateLimited] == limited)

        // Another source is not affected, and OPTIONS still works.
        let other = try LoopbackSocket(udp: true, port: edge.port)
        _ = other.send(SIPProbe.options(port: edge.port))
        #expect(other.receive()?.hasPrefix("SIP/2.0 200 OK") == true)
        await edge.stop()
    }
}
