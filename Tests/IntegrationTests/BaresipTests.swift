import Foundation
import Testing

/// baresip, a real SIP user agent, on the edge's mutual-TLS listener with a phone certificate.
@Suite(.serialized) struct BaresipTests {
    @Test func baresipRegistersAndSendsOptionsOverMutualTLS() async throws {
        let baresip = try #require(ExternalTool.path("baresip"), "baresip-core is installed by appliance/install-deps")
        let edge = try await EdgeUnderTest.start(tls: IntegrationPKI.edgeTLS())
        let home = try BaresipHome.make(registrarTLSPort: edge.tlsPort)
        defer { try? FileManager.default.removeItem(atPath: home) }

        let outcome = try ExternalTool.run(
            baresip, ["-f", home, "-s", "-t", "4", "-e", "/options sip:ping@edge.test"], timeout: .seconds(20))
        let lines = outcome.output.split(whereSeparator: \.isNewline).map(String.init)
        #expect(lines.contains { $0.hasPrefix("OPTIONS sip:ping@edge.test SIP/2.0") }, "\(outcome.output.suffix(3000))")
        #expect(lines.contains { $0.hasPrefix("SIP/2.0 200 OK") })
        #expect(lines.contains { $0.hasPrefix("REGISTER sip:edge.test;transport=tls SIP/2.0") })
        // Registration is not served yet: the edge must still answer it, with what it allows.
        #expect(lines.contains { $0.hasPrefix("SIP/2.0 405 Method Not Allowed") })
        #expect(edge.runtime.tlsStatistics.succeeded >= 1)
        #expect(edge.runtime.tlsStatistics.failures.isEmpty)
        await edge.stop()
    }
}
