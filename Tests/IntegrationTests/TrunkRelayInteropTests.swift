import Edge
import Foundation
import Runtime
import SIPTransport
import Testing

/// baresip, a strict user agent, registering through the edge in normal mode to Kamailio as the
/// call manager: the relayed answer must look to the phone like the answer to what it sent.
@Suite(.serialized) struct TrunkRelayInteropTests {
    static func trunk(to managers: [KamailioUnderTest], interval: Int = 1) -> @Sendable (inout OutpostConfiguration) -> Void {
        let targets = managers.map { OutpostConfiguration.Trunk.CallManager(transport: .udp, address: $0.address, port: $0.port) }
        return { configuration in
            RegistrarInteropTests.inventory(&configuration)
            configuration.trunk = OutpostConfiguration.Trunk(
                callManagers: targets, domain: "127.0.0.1", optionsInterval: interval, failoverMisses: 3, failbackSuccesses: 1, holdDown: 0)
        }
    }

    static func registerBaresip(through edge: EdgeUnderTest, until kamailio: KamailioUnderTest) async throws -> (trace: String, bindings: [KamailioUnderTest.Binding]) {
        try await registerBaresip(toTLSPort: edge.tlsPort, until: kamailio, thenQuit: true)
    }

    /// Runs baresip, registering over TLS to `port`, until Kamailio lists line 2001; with
    /// `thenQuit` it then lets baresip quit (it unregisters) and returns its whole trace.
    static func registerBaresip(
        toTLSPort port: Int, until kamailio: KamailioUnderTest, thenQuit: Bool
    ) async throws -> (trace: String, bindings: [KamailioUnderTest.Binding]) {
        let baresip = try #require(ExternalTool.path("baresip"), "baresip-core is installed by appliance/install-deps")
        let home = try BaresipHome.make(registrarTLSPort: port)
        defer { try? FileManager.default.removeItem(atPath: home) }
        // baresip quits after -t seconds and unregisters; on a loaded machine the first answer
        // can take a few seconds, so give it room.
        let phone = try BackgroundTool([baresip, "-f", home, "-s", "-t", "12"], timeout: .seconds(40))
        defer { phone.stop() }
        var bindings: [KamailioUnderTest.Binding] = []
        let deadline = ContinuousClock.now + .seconds(20)
        while bindings.isEmpty, ContinuousClock.now < deadline, phone.process.isRunning {
            try await Task.sleep(for: .milliseconds(100))
            bindings = try kamailio.bindings().filter { $0.aor == "2001" }
        }
        while thenQuit, phone.process.isRunning, ContinuousClock.now < deadline + .seconds(15) { try await Task.sleep(for: .milliseconds(100)) }
        return (phone.output, bindings)
    }

    /// The Via lines of the first `SIP/2.0 200 OK` to a REGISTER in baresip's SIP trace.
    static func viasOfFirstRegisterAnswer(_ trace: String) -> [String] {
        let lines = trace.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map(String.init)
        var index = 0
        while index < lines.count {
            if lines[index].hasPrefix("SIP/2.0 200 OK") {
                var message: [String] = []
                var cursor = index + 1
                while cursor < lines.count, !lines[cursor].trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                    message.append(lines[cursor])
                    cursor += 1
                }
                if message.contains(where: { $0.lowercased().hasPrefix("cseq:") && $0.uppercased().contains("REGISTER") }) {
                    return message.filter { $0.lowercased().hasPrefix("via:") || $0.lowercased().hasPrefix("v:") }
                }
            }
            index += 1
        }
        return []
    }

    @Test func baresipRegistersThroughTheEdgeToKamailioAndSeesOnlyItsOwnVia() async throws {
        let kamailio = try await KamailioUnderTest.start()
        defer { kamailio.stop() }
        let edge = try await EdgeUnderTest.start(tls: IntegrationPKI.edgeTLS(), configure: Self.trunk(to: [kamailio]))
        let (trace, bindings) = try await Self.registerBaresip(through: edge, until: kamailio)
        let binding = try #require(bindings.first, "Kamailio never held 2001; baresip said: \(trace.suffix(3000))")
        // The call manager routes to the phone through the edge (Path) and keys it by its own domain.
        #expect(binding.path?.contains("127.0.0.1") == true, "\(binding)")
        let vias = Self.viasOfFirstRegisterAnswer(trace)
        #expect(vias.count == 1, "the phone got \(vias) in: \(trace.suffix(4000))")
        #expect(vias.first?.contains("SIP/2.0/TLS") == true, "\(vias)")
        // baresip accepted the answer: it reports the binding and never an unmatched response.
        #expect(trace.contains("200 OK") && trace.contains("[1 binding]"), "\(trace.suffix(3000))")
        #expect(!trace.contains("unhandeled response") && !trace.contains("unhandled response"), "\(trace.suffix(3000))")
        let registrar = try #require(edge.runtime.registrar)
        #expect(registrar.statistics[.relayedAccepted] >= 2, "register and unregister: \(registrar.statistics.snapshot())")
        #expect(registrar.mode == .normal)
        // baresip's unregister went upstream too.
        #expect(try kamailio.bindings().filter { $0.aor == "2001" }.isEmpty)
        await edge.stop()
    }

    @Test func aRelayTheFirstCallManagerDoesNotAnswerGoesToTheSecondAndTheBranchStaysNormal() async throws {
        let first = try await KamailioUnderTest.start()
        defer { first.stop() }
        let second = try await KamailioUnderTest.start()
        defer { second.stop() }
        let edge = try await EdgeUnderTest.start(tls: IntegrationPKI.edgeTLS(), configure: Self.trunk(to: [first, second], interval: 3))
        let registrar = try #require(edge.runtime.registrar)
        // Both answered a keep-alive; then the preferred one goes away between keep-alives.
        try await Task.sleep(for: .milliseconds(500))
        first.stop()
        let (trace, bindings) = try await Self.registerBaresip(through: edge, until: second)
        #expect(!bindings.isEmpty, "the second call manager never held 2001; baresip said: \(trace.suffix(3000))")
        #expect(registrar.mode == .normal, "\(registrar.statistics.snapshot())")
        #expect(registrar.statistics[.relayFailures] == 0)
        #expect(registrar.statistics[.relayedAccepted] >= 1)
        await edge.stop()
    }
}
