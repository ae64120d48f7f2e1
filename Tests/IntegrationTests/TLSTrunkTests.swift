import Edge
import Foundation
import Runtime
import SIPTransport
import Testing

/// The trunk over TLS to Kamailio: the edge presents its certificate as a client and checks the
/// call manager's against the trusted roots and the expected name (its address by default).
@Suite(.serialized) struct TLSTrunkTests {
    static func trunkStatus(_ edge: EdgeUnderTest) async throws -> [String: Any] {
        try await PhoneReachabilityTests.waitForControlSocket(edge)
        let text = try ControlClient(stateDirectory: edge.stateDirectory).show("trunk", json: true)
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(text)")
    }

    static func edge(toTLS kamailio: KamailioUnderTest, serverName: String?) async throws -> EdgeUnderTest {
        try await EdgeUnderTest.start(tls: IntegrationPKI.edgeTLS()) { configuration in
            RegistrarInteropTests.inventory(&configuration)
            configuration.trunk = OutpostConfiguration.Trunk(
                callManagers: [.init(transport: .tls, address: kamailio.address, port: kamailio.tlsPort, serverName: serverName)],
                optionsInterval: 1, failoverMisses: 2, failbackSuccesses: 1, holdDown: 0)
        }
    }

    @Test func keepAlivesAndRelaysGoOverTLSToACallManagerWhoseCertificateNamesItsAddress() async throws {
        let kamailio = try await KamailioUnderTest.start()
        defer { kamailio.stop() }
        let edge = try await Self.edge(toTLS: kamailio, serverName: nil)
        let (trace, bindings) = try await TrunkRelayInteropTests.registerBaresip(through: edge, until: kamailio)
        let binding = try #require(bindings.first, "Kamailio never held 2001; baresip said: \(trace.suffix(3000))")
        #expect(binding.path?.contains("transport=tls") == true, "\(binding)")
        let managers = try #require(try await Self.trunkStatus(edge)["call_managers"] as? [[String: Any]])
        #expect(managers.first?["answering"] as? Bool == true, "\(managers)")
        #expect(edge.runtime.registrar?.mode == .normal)
        await edge.stop()
    }

    @Test func aCallManagerWhoseCertificateDoesNotCarryTheConfiguredNameIsRefusedWithOpenSSLsReason() async throws {
        let kamailio = try await KamailioUnderTest.start()
        defer { kamailio.stop() }
        let edge = try await Self.edge(toTLS: kamailio, serverName: "cm.elsewhere.example")
        let registrar = try #require(edge.runtime.registrar)
        let deadline = ContinuousClock.now + .seconds(15)
        while registrar.mode != .survivable, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
        #expect(registrar.mode == .survivable)
        let status = try await Self.trunkStatus(edge)
        let failure = try #require((status["call_managers"] as? [[String: Any]])?.first?["last_failure"] as? String, "\(status)")
        #expect(failure.contains("TLS handshake"), "\(failure)")
        #expect(failure.lowercased().contains("hostname mismatch") || failure.lowercased().contains("certificate verify failed"), "\(failure)")
        await edge.stop()
    }
}
