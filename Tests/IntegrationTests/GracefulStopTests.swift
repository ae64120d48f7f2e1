import Edge
import Foundation
import OutpostBench
import Runtime
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM to the real binary with sipp calls up: new calls get 503 at once, the calls up go on
/// for `calls.drain_time`, then the edge hangs them up with a Reason, writes their records, and
/// exits 0 well within systemd's stop timeout.
@Suite(.serialized) struct GracefulStopTests {
    @Test func sigtermDrainsTheCallsUpThenHangsThemUpAndExitsZero() async throws {
        let state = NSTemporaryDirectory() + "outpost-drain-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: state) }
        let port = try FreePort.pick()
        let media = SippCallLoadTests.mediaPorts()
        let config = state + "/outpost.yaml"
        let drain = 3
        try SippCallLoadTests.edgeConfiguration(port: port, media: media, state: state, extra: "calls: {drain_time: \(drain)}")
            .write(toFile: config, atomically: true, encoding: .utf8)
        let caller = try SippPhone(line: SippCallLoadTests.callerLine)
        let callee = try SippPhone(line: SippCallLoadTests.calleeLine)
        defer { caller.stop(); callee.stop() }
        let edge = try BackgroundEdge(launcher: [], config: config, log: state + "/edge.log")
        defer { edge.kill() }
        func records() throws -> [CallRecord] { try SQLiteCallRecords.openExisting(stateDirectory: state).records() }
        do {
            try await BackgroundEdge.waitFor("the edge", timeout: .seconds(20)) { try BackgroundEdge.show("calls", config: config) != nil }
            let calls = 4
            _ = try await SippCallLoadTests.register(caller, callee, edgePort: port, answering: calls, timeout: .seconds(90))
            // Calls of 60 s: none ends by itself before the drain is over.
            _ = try caller.call(
                edgePort: port, number: SippCallLoadTests.calleeLine, calls: calls, concurrency: calls, callSeconds: 60, placingSeconds: 1, timeout: .seconds(90),
                traceMessages: true)
            try await BackgroundEdge.waitFor("every call up", timeout: .seconds(20)) {
                try records().filter { $0.answeredAt != nil && $0.isOpen }.count == calls
            }
            let stopping = Date()
            edge.signal(SIGTERM)
            try await Task.sleep(for: .milliseconds(500))
            // A new call while draining: refused at once, and why.
            let socket = try LoopbackSocket(udp: true, port: port)
            socket.send(Self.invite(port: port))
            let refusal = socket.receive() ?? ""
            #expect(refusal.hasPrefix("SIP/2.0 503"), "\(refusal)")
            #expect(refusal.contains("the edge is shutting down"), "\(refusal)")
            let status = edge.terminate(within: .seconds(Double(drain) + 10))
            let took = Date().timeIntervalSince(stopping)
            print("graceful stop: exit \(status.map(String.init) ?? "none") \(String(format: "%.1f", took)) s after SIGTERM (drain_time \(drain) s)")
            #expect(status == 0, "exit status")
            #expect(took >= Double(drain) - 0.5 && took < Double(drain) + 8, "the calls had their drain time, and the stop fits systemd's 30 s")

            let closed = try records()
            #expect(closed.count == calls)
            for record in closed {
                #expect(!record.isOpen && record.endedBy == .edge && record.endReason == "the edge is shutting down" && record.q850Cause == 41, "\(record)")
                let endedAfter = Double(record.endedAt ?? 0) / 1_000 - stopping.timeIntervalSince1970
                #expect(endedAfter >= Double(drain) - 0.5, "ended \(endedAfter) s after SIGTERM: \(record)")
            }
            // Both phones heard of it: a BYE with the Reason for each call, on each side.
            let byes = caller.messages().filter { !$0.sent && $0.text.hasPrefix("BYE ") }
            #expect(byes.count == calls, "BYEs to the caller: \(byes.count)")
            #expect(byes.allSatisfy { $0.text.contains("Q.850;cause=41;text=\"the edge is shutting down\"") }, "\(byes.first?.text ?? "")")
            let log = try String(contentsOfFile: state + "/edge.log", encoding: .utf8)
            #expect(log.contains("stopping: hanging up the calls still up"), "\(log.suffix(2000))")
        } catch {
            Issue.record(error)
            Issue.record("edge log: \((try? String(contentsOfFile: state + "/edge.log", encoding: .utf8))?.suffix(3000) ?? "")")
        }
    }

    static func invite(port: Int) -> String {
        let body = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n"
        return "INVITE sip:3002@127.0.0.1:\(port) SIP/2.0\r\n"
            + "Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK\(UUID().uuidString.prefix(8));rport\r\n"
            + "From: <sip:3001@127.0.0.1>;tag=late\r\nTo: <sip:3002@127.0.0.1>\r\nCall-ID: late-\(UUID().uuidString)\r\n"
            + "CSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContact: <sip:3001@127.0.0.1:9>\r\nContent-Type: application/sdp\r\n"
            + "Content-Length: \(body.utf8.count)\r\n\r\n" + body
    }
}
