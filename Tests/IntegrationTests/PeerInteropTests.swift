import Foundation
import Testing

/// The edge against independent SIP implementations from Debian: sipp and sipsak.
@Suite(.serialized) struct PeerInteropTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

    @Test(arguments: ["udp", "tcp"])
    func sipsakOptionsGets200(transport: String) async throws {
        let sipsak = try #require(ExternalTool.path("sipsak"), "sipsak is installed by appliance/install-deps")
        let edge = try await EdgeUnderTest.start()
        defer { Task { await edge.stop() } }
        let outcome = try ExternalTool.run(sipsak, ["-vv", "-E", transport, "-s", "sip:127.0.0.1:\(edge.port)"], timeout: .seconds(20))
        #expect(outcome.status == 0, "\(outcome.output)")
        #expect(outcome.output.contains("SIP/2.0 200 OK"))
        #expect(outcome.output.contains("Allow: OPTIONS"))
        #expect(outcome.output.contains("received=127.0.0.1"))
        await edge.stop()
    }

    @Test(arguments: ["sipp-options", "sipp-unknown-method", "sipp-malformed"], ["u1", "t1"])
    func sippScenarioPasses(scenario: String, transport: String) async throws {
        let sipp = try #require(ExternalTool.path("sipp"), "sipp (sip-tester) is installed by appliance/install-deps")
        let edge = try await EdgeUnderTest.start()
        let work = NSTemporaryDirectory() + "sipp-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let outcome = try ExternalTool.run(
            sipp,
            ["127.0.0.1:\(edge.port)", "-sf", "\(Self.fixtures)/\(scenario).xml", "-t", transport, "-m", "50", "-r", "200",
             "-timeout", "15s", "-nostdin", "-trace_err", "-error_file", "\(work)/errors.log", "-trace_stat", "-stf", "\(work)/stat.csv"],
            timeout: .seconds(30), directory: work)
        let errors = (try? String(contentsOfFile: "\(work)/errors.log", encoding: .utf8)) ?? ""
        #expect(outcome.status == 0, "sipp exit \(outcome.status): \(errors.prefix(2000))")
        #expect(!outcome.timedOut)
        await edge.stop()
        try? FileManager.default.removeItem(atPath: work)
    }
}
