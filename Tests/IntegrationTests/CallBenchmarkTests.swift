import Foundation
import NIOCore
import PKI
@testable import OutpostBench
import Testing

/// `outpost bench calls` in a tiny configuration: its generator's calls really go through the
/// edge and through Kamailio with rtpengine (both ends take every message, the media is
/// anchored), and the bench prints both figures for both. Kamailio and rtpengine come from
/// appliance/install-deps: missing, these fail. No timing is asserted.
@Suite(.serialized) struct CallBenchmarkTests {
    @Test func theGeneratorsCallsCompleteThroughTheEdgeAndThroughKamailioWithRtpengine() async throws {
        let directory = NSTemporaryDirectory() + "call-bench-test-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let files = try BenchmarkPKI.make(in: directory + "/pki", serverKey: .ecP256)
        let edge = try await BenchEdge.start(
            .udp, lines: (0..<3).flatMap { [CallLoadGenerator.callerNumber($0), CallLoadGenerator.calleeNumber($0)] }, files: files,
            directory: directory + "/edge")
        let kamailio = try await KamailioCallBaseline().start(directory: directory + "/kamailio", mediaPorts: 30_000...30_999)
        defer { kamailio.stop() }
        for target in [edge.target, kamailio.target] {
            let generator = try await CallLoadGenerator(target: target, transport: .udp, pairs: 3, digestPassword: KamailioBaseline.digestPassword)
            try await generator.registerAll()
            let result = try await generator.run(for: .milliseconds(500))
            await generator.close()
            #expect(result.completed > 3 && result.completed == result.attempted && result.failures == 0, "\(target): \(result)")
            #expect(result.anchored == result.completed, "\(target): the callee was offered the caller's own address: \(result)")
        }
        await edge.stop()
        #expect(kamailio.rtpengine.isRunning)
    }

    @Test func theBenchPrintsBothFiguresNextToTheirBaseline() async throws {
        let lines = try await CallBenchmark(
            window: 2, runLimit: .milliseconds(400), rounds: 1, steps: [4], mediaWindow: .milliseconds(500), mediaWarmUp: .milliseconds(300)
        ).run()
        let text = lines.joined(separator: "\n")
        #expect(!text.contains("could not be started") && !text.contains("not measured") && !text.contains("stopped:"), "\(text)")
        #expect(!text.contains("FAILURES"), "\(text)")
        let rates = lines.filter { $0.contains(" calls/s, setup p50 ") }
        #expect(rates.count == 2 && rates[0].contains("the edge") && rates[1].contains("Kamailio + rtpengine"), "\(text)")
        let concurrent = lines.filter { $0.contains("concurrent calls with zero loss") }
        #expect(concurrent.count == 2 && concurrent.allSatisfy { $0.contains(" 4 concurrent calls") }, "\(text)")
        // Four calls, two streams each, 50 packets/s for half a second: every packet arrived.
        #expect(lines.filter { $0.contains("packets received/sent per step: 4: ") }.count == 2, "\(text)")
    }
}
