import Edge
import Foundation
import Runtime
import Testing

/// baresip, a real SIP user agent, registering on the edge's mutual-TLS listener with a phone certificate.
@Suite(.serialized) struct BaresipTests {
    @Test func baresipRegistersWithItsCertificateAndSendsOptionsOverMutualTLS() async throws {
        let baresip = try #require(ExternalTool.path("baresip"), "baresip-core is installed by appliance/install-deps")
        let edge = try await EdgeUnderTest.start(tls: IntegrationPKI.edgeTLS(), configure: RegistrarInteropTests.inventory)
        let home = try BaresipHome.make(registrarTLSPort: edge.tlsPort)
        defer { try? FileManager.default.removeItem(atPath: home) }

        let outcome = try ExternalTool.run(
            baresip, ["-f", home, "-s", "-t", "4", "-e", "/options sip:ping@edge.test"], timeout: .seconds(20))
        let lines = outcome.output.split(whereSeparator: \.isNewline).map(String.init)
        #expect(lines.contains { $0.hasPrefix("OPTIONS sip:ping@edge.test SIP/2.0") }, "\(outcome.output.suffix(3000))")
        #expect(lines.contains { $0.hasPrefix("SIP/2.0 200 OK") })
        #expect(lines.contains { $0.hasPrefix("REGISTER sip:edge.test;transport=tls SIP/2.0") })
        // The phone's certificate names SEP001122334455, which owns line 2001: registered, no challenge.
        #expect(!lines.contains { $0.hasPrefix("SIP/2.0 401") || $0.hasPrefix("SIP/2.0 403") })
        // baresip registers, then unregisters as it quits.
        let registrar = try #require(edge.runtime.registrar)
        #expect(registrar.statistics[.registered] >= 1, "\(outcome.output.suffix(3000))")
        #expect(registrar.statistics[.unregistered] >= 1)
        #expect(registrar.bindings(for: "2001").isEmpty)
        #expect(edge.runtime.tlsStatistics.succeeded >= 1)
        #expect(edge.runtime.tlsStatistics.failures.isEmpty)
        await edge.stop()
    }
}
