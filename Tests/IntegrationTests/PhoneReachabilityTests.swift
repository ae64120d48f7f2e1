import Edge
import Foundation
import Runtime
import SIP
import Testing

/// The edge sending requests to phones: baresip registers, then `show reachability <line>` sends
/// it an OPTIONS over the flow it registered on, and baresip answers.
@Suite(.serialized) struct PhoneReachabilityTests {
    /// The control socket opens a moment after the SIP listeners the start waits for.
    static func waitForControlSocket(_ edge: EdgeUnderTest) async throws {
        let path = ControlSocketService.socketPath(stateDirectory: edge.stateDirectory)
        let deadline = ContinuousClock.now + .seconds(10)
        while !FileManager.default.fileExists(atPath: path), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
    }

    static func reachability(_ edge: EdgeUnderTest, line: String) async throws -> [[String: Any]] {
        try await waitForControlSocket(edge)
        let text = try ControlClient(stateDirectory: edge.stateDirectory).show("reachability", argument: line, json: true)
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]], "\(text)")
    }

    static func waitForBinding(_ edge: EdgeUnderTest, line: String, phone: BackgroundTool) async throws {
        let registrar = try #require(edge.runtime.registrar)
        let deadline = ContinuousClock.now + .seconds(15)
        while registrar.bindings(for: line).isEmpty, ContinuousClock.now < deadline, phone.process.isRunning {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(!registrar.bindings(for: line).isEmpty, "baresip said: \(phone.output.suffix(3000))")
    }

    @Test func anOptionsReachesBaresipOverItsTLSFlow() async throws {
        let baresip = try #require(ExternalTool.path("baresip"), "baresip-core is installed by appliance/install-deps")
        let edge = try await EdgeUnderTest.start(tls: IntegrationPKI.edgeTLS(), configure: RegistrarInteropTests.inventory)
        let home = try BaresipHome.make(registrarTLSPort: edge.tlsPort)
        defer { try? FileManager.default.removeItem(atPath: home) }
        let phone = try BackgroundTool([baresip, "-f", home, "-s", "-t", "20"], timeout: .seconds(30))
        defer { phone.stop() }
        try await Self.waitForBinding(edge, line: "2001", phone: phone)
        let probes = try await Self.reachability(edge, line: "2001")
        #expect(probes.count == 1)
        #expect(probes.first?["status"] as? Int == 200, "\(probes); baresip said: \(phone.output.suffix(3000))")
        #expect((probes.first?["flow"] as? String)?.hasPrefix("TLS 127.0.0.1:") == true)
        #expect(phone.output.contains("OPTIONS sip:"), "baresip saw no OPTIONS: \(phone.output.suffix(3000))")
        // No new connection was needed: the request went over the phone's own.
        let sip = try ControlClient(stateDirectory: edge.stateDirectory).show("sip", json: true)
        let counters = try #require((try JSONSerialization.jsonObject(with: Data(sip.utf8)) as? [String: Any])?["requests_to_phones"] as? [String: Int])
        #expect(counters["over_flow"] == 1 && counters["new_connections"] == 0, "\(counters)")
        await edge.stop()
    }

    @Test func anOptionsReachesADigestPhoneOverUDPAtTheAddressItRegisteredFrom() async throws {
        let baresip = try #require(ExternalTool.path("baresip"), "baresip-core is installed by appliance/install-deps")
        // baresip 1.0 (Debian 12) fails the whole challenge ("Function not implemented") when any
        // offered algorithm is unknown to it, even with MD5 offered first: offer MD5 alone.
        let edge = try await EdgeUnderTest.start { configuration in
            RegistrarInteropTests.inventory(&configuration)
            configuration.registrar.digestAlgorithms = [.md5]
        }
        let home = try BaresipHome.make(account: "<sip:3001@edge.test>;auth_pass=s3cret;outbound=\"sip:127.0.0.1:\(edge.port)\";regint=60")
        defer { try? FileManager.default.removeItem(atPath: home) }
        let phone = try BackgroundTool([baresip, "-f", home, "-s", "-t", "20"], timeout: .seconds(30))
        defer { phone.stop() }
        try await Self.waitForBinding(edge, line: "3001", phone: phone)
        let probes = try await Self.reachability(edge, line: "3001")
        #expect(probes.first?["status"] as? Int == 200, "\(probes); baresip said: \(phone.output.suffix(3000))")
        #expect((probes.first?["flow"] as? String)?.hasPrefix("UDP 127.0.0.1:") == true)
        await edge.stop()
    }

    @Test func aLineWithoutBindingsAndAMissingArgumentGetClearAnswers() async throws {
        let edge = try await EdgeUnderTest.start(configure: RegistrarInteropTests.inventory)
        #expect(try await Self.reachability(edge, line: "2001").isEmpty)
        #expect(throws: ControlClientError.self) { try ControlClient(stateDirectory: edge.stateDirectory).show("reachability") }
        #expect(throws: ControlClientError.self) { try ControlClient(stateDirectory: edge.stateDirectory).show("devices", argument: "x") }
        await edge.stop()
    }
}
