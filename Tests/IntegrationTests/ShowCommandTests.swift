import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `outpost show …` from the real binary against a real `outpost run`.
@Suite(.serialized) struct ShowCommandTests {
    @Test func showDevicesAsksTheRunningEdgeAndSurvivesItsKill() async throws {
        let state = NSTemporaryDirectory() + "outpost-show-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: state) }
        let port = Int.random(in: 20_000...40_000)
        let config = state + "/outpost.yaml"
        try """
            sip:
              listen:
                - transport: udp
                  address: 127.0.0.1
                  port: \(port)
            devices:
              - name: SEP001122334455
                lines: [2001]
                security: authenticated
              - name: fax
                lines: [{number: 2099, display_name: Fax}]
                security: non-secure
                digest: {username: fax, password: s3cret}
            state_directory: \(state)
            log:
              level: warning
            """.write(toFile: config, atomically: true, encoding: .utf8)

        let notRunning = try ExternalTool.run(BinaryTests.binary, ["show", "devices", "--config", config], timeout: .seconds(10))
        #expect(notRunning.status == 1)
        #expect(notRunning.output.contains("no edge is running with state directory \(state) (connect: No such file or directory)"), "\(notRunning.output)")

        for start in 0..<2 {
            let edge = Process()
            edge.executableURL = URL(fileURLWithPath: BinaryTests.binary)
            edge.arguments = ["run", "--config", config]
            edge.standardOutput = FileHandle.nullDevice
            edge.standardError = FileHandle.nullDevice
            try edge.run()
            defer { if edge.isRunning { kill(edge.processIdentifier, SIGKILL) } }
            var shown: ExternalTool.Outcome?
            for _ in 0..<200 {
                let outcome = try ExternalTool.run(BinaryTests.binary, ["show", "devices", "--json", "--config", config], timeout: .seconds(10))
                if outcome.status == 0 {
                    shown = outcome
                    break
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            let json = try #require(shown, "start \(start): the edge never answered").output
            let devices = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]], "\(json)")
            #expect(devices.map { $0["name"] as? String } == ["SEP001122334455", "fax"])
            #expect(devices.map { $0["digest"] as? Bool } == [false, true])
            #expect(!json.contains("s3cret"))
            let table = try ExternalTool.run(BinaryTests.binary, ["show", "devices", "--state-directory", state], timeout: .seconds(10))
            #expect(table.status == 0)
            #expect(table.output.hasPrefix("NAME "), "\(table.output)")
            // The second start finds the socket file the killed first one left, and replaces it.
            kill(edge.processIdentifier, SIGKILL)
            edge.waitUntilExit()
        }
    }

    /// The README documents `outpost show media`; the edge serves the topic, and the command asks for it.
    @Test func showMediaPrintsTheRelaysPortPool() async throws {
        let state = NSTemporaryDirectory() + "outpost-show-media-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: state) }
        let config = state + "/outpost.yaml"
        try """
            sip:
              listen:
                - {transport: udp, address: 127.0.0.1, port: \(Int.random(in: 20_000...40_000))}
            media: {address: 127.0.0.1, port_min: 50000, port_max: 50099}
            tftp: {enabled: false}
            state_directory: \(state)
            log: {level: warning}
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let edge = try BackgroundEdge(launcher: [], config: config, log: state + "/edge.log")
        defer { edge.kill() }
        var media: [String: Any]?
        try await BackgroundEdge.waitFor("show media", timeout: .seconds(20)) {
            media = try BackgroundEdge.show("media", config: config)
            return media != nil
        }
        #expect(media?["port_range"] as? String == "50000-50099" && media?["port_pairs"] as? Int == 50 && media?["allocated"] as? Int == 0, "\(media ?? [:])")
        let table = try ExternalTool.run(BinaryTests.binary, ["show", "media", "--config", config], timeout: .seconds(10))
        #expect(table.status == 0 && table.output.hasPrefix("ports 50000-50099: 0 of 50 pairs in use"), "\(table.output)")
    }
}
