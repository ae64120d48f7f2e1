import Foundation
import Testing

/// baresip, a real SIP user agent, registering on the edge's mutual-TLS listener with a phone certificate.
@Suite(.serialized) struct BaresipTests {
    @Test func baresipRegistersWithItsCertificateAndSendsOptionsOverMutualTLS() async throws {
        let baresip = try #require(ExternalTool.path("baresip"), "baresip-core is installed by appliance/install-deps")
        let edge = try await EdgeUnderTest.start(tls: IntegrationPKI.edgeTLS(), configure: RegistrarInteropTests.inventory)
        let home = NSTemporaryDirectory() + "baresip-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: home) }
        // baresip wants certificate and key in one file.
        let identity = try String(contentsOfFile: IntegrationPKI.path("phone.pem"), encoding: .utf8)
            + String(contentsOfFile: IntegrationPKI.path("phone.key"), encoding: .utf8)
        try identity.write(toFile: "\(home)/phone.pem", atomically: true, encoding: .utf8)
        try """
            sip_listen 127.0.0.1:0
            sip_certificate \(home)/phone.pem
            sip_cafile \(IntegrationPKI.path("ca.pem"))
            module_path /usr/lib/baresip/modules
            module menu.so
            module_app account.so

            """.write(toFile: "\(home)/config", atomically: true, encoding: .utf8)
        try "<sip:2001@edge.test;transport=tls>;outbound=\"sip:127.0.0.1:\(edge.tlsPort);transport=tls\";regint=60\n"
            .write(toFile: "\(home)/accounts", atomically: true, encoding: .utf8)

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
