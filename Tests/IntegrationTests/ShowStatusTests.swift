import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `outpost show status` from the real binary against a real `outpost run`, read off a tmux
/// pane of an ordinary terminal's size, as the operator sees it.
@Suite(.serialized) struct ShowStatusTests {
    static let columns = 100

    @Test func showStatusFitsOneScreenAndSaysWhatTheEdgeIsDoing() async throws {
        _ = try #require(ExternalTool.path("tmux"), "tmux is installed by appliance/install-deps")
        let state = NSTemporaryDirectory() + "outpost-status-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: state) }
        let port = Int.random(in: 20_000...40_000)
        // A call manager that never answers: the edge fails over, which is an alarm.
        let silentCallManager = Int.random(in: 40_001...50_000)
        let config = state + "/outpost.yaml"
        try """
            sip:
              listen:
                - {transport: udp, address: 127.0.0.1, port: \(port)}
                - {transport: tls, address: 127.0.0.1, port: \(port + 1)}
            pki:
              names: [edge.example.net]
              addresses: [127.0.0.1]
            trunk:
              call_managers:
                - {transport: udp, address: 127.0.0.1, port: \(silentCallManager)}
              options_interval: 1
              failover_misses: 2
            tftp: {enabled: false}
            admin: {enabled: false}
            devices:
              - name: fax
                lines: ["2099"]
                security: non-secure
                digest: {username: "2099", password: s3cret}
            state_directory: \(state)
            log:
              level: warning
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let edge = try BackgroundEdge(launcher: [], config: config, log: state + "/edge.log")
        defer { edge.kill() }

        var json: [String: Any] = [:]
        for _ in 0..<100 {
            let outcome = try ExternalTool.run(BinaryTests.binary, ["show", "status", "--json", "--config", config], timeout: .seconds(10))
            if outcome.status == 0, let parsed = try? JSONSerialization.jsonObject(with: Data(outcome.output.utf8)) as? [String: Any] {
                json = parsed
                if json["mode"] as? String == "survivable" { break }
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(json["mode"] as? String == "survivable", "the silent call manager made the edge survivable: \(json)")
        let certificate = try #require(json["certificate"] as? [String: Any])
        #expect((certificate["days_left"] as? Int ?? 0) > 300, "the edge's own SRST certificate: \(certificate)")
        #expect((certificate["subject"] as? String ?? "").contains("edge.example.net"), "\(certificate)")

        // One shell runs the whole tmux exchange: a tmux server started from this process by
        // Foundation's Process does not answer clients that Process starts later.
        let socket = "outpost-status-\(getpid())"
        let script = """
            tmux -L \(socket) new-session -d -s status -x \(Self.columns) -y 40 '\(BinaryTests.binary) show status --config \(config); sleep 30'
            for attempt in $(seq 1 50); do
                screen=$(tmux -L \(socket) capture-pane -p -t status)
                case "$screen" in *alarms*) break;; esac
                sleep 0.1
            done
            tmux -L \(socket) capture-pane -p -t status
            tmux -L \(socket) kill-server
            """
        let captured = try ExternalTool.run("/bin/sh", ["-c", script], timeout: .seconds(30))
        #expect(captured.status == 0, "\(captured.output)")
        let screen = captured.output
        print("outpost show status, as a \(Self.columns)-column terminal shows it:\n\(screen)")
        let lines = screen.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let labels = lines.compactMap { $0.split(separator: " ").first.map(String.init) }
        for label in ["edge", "mode", "trunk", "ipsec", "registrations", "calls", "sip", "certificate", "tftp", "pstn", "alarms"] {
            #expect(labels.contains(label), "row \(label) in:\n\(screen)")
        }
        // Every value starts in one column, after the longest label and a space.
        for line in lines where !line.hasPrefix(" ") && !line.isEmpty {
            #expect(line.prefix(15).hasSuffix(" ") && line.dropFirst(15).first != " ", "value column of: \(line)")
        }
        #expect(lines.allSatisfy { $0.count <= Self.columns }, "no line wraps in \(Self.columns) columns")
        #expect(lines.filter { !$0.isEmpty }.count <= 30, "one screen")
        #expect(screen.contains("SURVIVABLE: the edge is the phones' registrar and call router"), "\(screen)")
        #expect(screen.contains("udp:127.0.0.1:\(silentCallManager)  NOT ANSWERING"), "\(screen)")
        #expect(screen.contains("registrar mode normal → survivable"), "the failover is among the alarms:\n\(screen)")
        #expect(screen.contains("certificate    valid: "), "\(screen)")
        #expect(screen.contains("0 of 1 devices registered"), "\(screen)")
        #expect(!screen.contains("s3cret"))
    }
}
