import Edge
import Foundation
import OutpostBench
import Runtime
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A configuration change applied to the real binary while phones are registered: what a reload
/// may change changes, nobody else loses a binding, a broken file changes nothing, and a storm of
/// SIGHUPs is harmless.
@Suite(.serialized) struct ReloadTests {
    static func configuration(port: Int, state: String, devices: [(name: String, line: String)], extra: String = "", level: String = "warning") -> String {
        let inventory = devices.map { device in
            """
              - name: \(device.name)
                security: non-secure
                lines: ["\(device.line)"]
                digest: {username: "\(device.line)", password: s3cret}
            """
        }.joined(separator: "\n")
        return """
            sip:
              listen:
                - {transport: udp, address: 127.0.0.1, port: \(port)}
            registrar:
              digest_algorithms: [MD5]
            tftp: {enabled: false}
            admin: {enabled: false}
            devices:
            \(inventory)
            \(extra)
            state_directory: \(state)
            log: {level: \(level)}
            """
    }

    static func register(_ line: String, port: Int, work: String) throws {
        let (outcome, log) = try RegistrarInteropTests.sipp(
            ["127.0.0.1:\(port)", "-sf", "\(RegistrarInteropTests.fixtures)/sipp-register-digest.xml", "-t", "u1", "-s", line, "-au", line, "-ap", "s3cret",
             "-m", "1", "-p", "\(Int.random(in: 41_000...49_000))"],
            work: work)
        #expect(outcome.status == 0, "REGISTER \(line): \(log.suffix(1500))")
    }

    static func registeredLines(_ state: String) throws -> [String] {
        let outcome = try ExternalTool.run(BinaryTests.binary, ["show", "registrations", "--json", "--state-dir", state], timeout: .seconds(10))
        let view = try? JSONSerialization.jsonObject(with: Data(outcome.output.utf8)) as? [String: Any]
        return ((view?["bindings"] as? [[String: Any]]) ?? []).compactMap { $0["address_of_record"] as? String }.sorted()
    }

    static func deviceNames(_ state: String) throws -> [String] {
        let outcome = try ExternalTool.run(BinaryTests.binary, ["show", "devices", "--json", "--state-dir", state], timeout: .seconds(10))
        let devices = (try? JSONSerialization.jsonObject(with: Data(outcome.output.utf8)) as? [[String: Any]]) ?? []
        return devices.compactMap { $0["name"] as? String }
    }

    static func reload(_ config: String) throws -> ExternalTool.Outcome {
        try ExternalTool.run(BinaryTests.binary, ["reload", "--config", config], timeout: .seconds(40))
    }

    @Test func aReloadChangesTheInventoryDialPlanAndLogLevelAndKeepsEveryOtherBinding() async throws {
        let state = NSTemporaryDirectory() + "outpost-reload-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: state) }
        let work = try RegistrarInteropTests.workDirectory()
        defer { try? FileManager.default.removeItem(atPath: work) }
        let port = Int.random(in: 20_000...40_000)
        let config = state + "/outpost.yaml"
        let log = state + "/edge.log"
        try Self.configuration(port: port, state: state, devices: [("lobby", "2001"), ("fax", "2002")])
            .write(toFile: config, atomically: true, encoding: .utf8)
        let edge = try BackgroundEdge(launcher: [], config: config, log: log)
        defer { edge.kill() }
        try await BackgroundEdge.waitFor("the edge", timeout: .seconds(20)) { try BackgroundEdge.show("registrations", config: config) != nil }
        try Self.register("2001", port: port, work: work)
        try Self.register("2002", port: port, work: work)
        #expect(try Self.registeredLines(state) == ["2001", "2002"])

        // fax leaves, a new phone joins, a dial-plan rule and a chattier log; the media range
        // needs a restart, and the edge says so.
        try Self.configuration(
            port: port, state: state, devices: [("lobby", "2001"), ("kitchen", "2003")],
            extra: """
                dial_plan:
                  - {name: no-premium, pattern: "900.", target: refuse, status: 403, reason: "premium numbers are barred"}
                media: {port_min: 30000, port_max: 30999}
                """, level: "info"
        ).write(toFile: config, atomically: true, encoding: .utf8)
        let applied = try Self.reload(config)
        #expect(applied.status == 0, "\(applied.output)")
        #expect(applied.output.contains("devices (2; bindings removed for 2002)"), "\(applied.output)")
        #expect(applied.output.contains("dial_plan (1 rules)"), "\(applied.output)")
        #expect(applied.output.contains("log.level info"), "\(applied.output)")
        #expect(applied.output.contains("applied only at the next start: media"), "\(applied.output)")
        #expect(try Self.registeredLines(state) == ["2001"], "lobby keeps its binding; fax's is gone")
        #expect(try Self.deviceNames(state) == ["lobby", "kitchen"])
        try Self.register("2003", port: port, work: work)
        #expect(try Self.registeredLines(state) == ["2001", "2003"], "the new phone registers at once")

        // A broken file changes nothing.
        let running = try String(contentsOfFile: config, encoding: .utf8)
        try running.replacingOccurrences(of: "log: {level: info}", with: "log: {level: chatty}")
            .replacingOccurrences(of: "name: kitchen", with: "name: lobby")
            .write(toFile: config, atomically: true, encoding: .utf8)
        let refused = try Self.reload(config)
        #expect(refused.status != 0)
        #expect(refused.output.contains("reload refused, the running configuration stays"), "\(refused.output)")
        #expect(refused.output.contains(config), "the refusal names the file: \(refused.output)")
        #expect(try Self.deviceNames(state) == ["lobby", "kitchen"])
        #expect(try Self.registeredLines(state) == ["2001", "2003"])
        // The edge refuses it by itself too, at SIGHUP.
        edge.signal(SIGHUP)
        try await BackgroundEdge.waitFor("the edge to refuse the file", timeout: .seconds(10)) {
            (try String(contentsOfFile: log, encoding: .utf8)).contains("configuration reload refused")
        }
        #expect(try Self.deviceNames(state) == ["lobby", "kitchen"])
        #expect(try Self.registeredLines(state) == ["2001", "2003"])

        // Fifty SIGHUPs at once, the file now asking for errors only: the edge goes on, bindings
        // intact, it still answers, and the storm's own notices are already held back.
        try running.replacingOccurrences(of: "log: {level: info}", with: "log: {level: error}").write(toFile: config, atomically: true, encoding: .utf8)
        for _ in 0..<50 { edge.signal(SIGHUP) }
        try await Task.sleep(for: .seconds(2))
        #expect(edge.isRunning)
        #expect(try Self.registeredLines(state) == ["2001", "2003"])
        let socket = try LoopbackSocket(udp: true, port: port)
        socket.send(SIPProbe.options(port: port))
        #expect(socket.receive()?.hasPrefix("SIP/2.0 200") == true)
        let logged = try String(contentsOfFile: log, encoding: .utf8)
        #expect(!logged.contains("Outpost starting"), "log.level warning at start holds notices back")
        #expect(logged.components(separatedBy: "configuration reloaded").count - 1 == 1, "only the reload at info level was logged:\n\(logged.suffix(3000))")
        #expect(logged.components(separatedBy: "reloading on request").count - 1 <= 1, "the storm's reloads ran at error level:\n\(logged.suffix(3000))")
        #expect(logged.contains("configuration reload refused"), "the broken file was logged as refused")
    }

    /// A reload during a call leaves the call alone: it goes on and ends with the phone's BYE,
    /// recorded as the caller's hang-up.
    @Test func aReloadUnderALiveCallLeavesTheCallUp() async throws {
        let state = NSTemporaryDirectory() + "outpost-reload-call-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: state) }
        let port = try FreePort.pick()
        let media = SippCallLoadTests.mediaPorts()
        let config = state + "/outpost.yaml"
        func write(level: String, rules: String) throws {
            try SippCallLoadTests.edgeConfiguration(port: port, media: media, state: state, extra: rules, level: level)
                .write(toFile: config, atomically: true, encoding: .utf8)
        }
        try write(level: "warning", rules: "")
        let caller = try SippPhone(line: SippCallLoadTests.callerLine)
        let callee = try SippPhone(line: SippCallLoadTests.calleeLine)
        defer { caller.stop(); callee.stop() }
        let edge = try BackgroundEdge(launcher: [], config: config, log: state + "/edge.log")
        defer { edge.kill() }
        func records() throws -> [CallRecord] { try SQLiteCallRecords.openExisting(stateDirectory: state).records() }
        try await BackgroundEdge.waitFor("the edge", timeout: .seconds(20)) { try BackgroundEdge.show("calls", config: config) != nil }
        _ = try await SippCallLoadTests.register(caller, callee, edgePort: port, answering: 1, timeout: .seconds(60))
        let calling = try caller.call(
            edgePort: port, number: SippCallLoadTests.calleeLine, calls: 1, concurrency: 1, callSeconds: 6, placingSeconds: 1, timeout: .seconds(60))
        try await BackgroundEdge.waitFor("the call up", timeout: .seconds(20)) { try records().contains { $0.answeredAt != nil && $0.isOpen } }

        try write(level: "info", rules: "dial_plan:\n  - {name: barred, pattern: \"900.\", target: refuse, status: 403, reason: barred}\n")
        let applied = try Self.reload(config)
        #expect(applied.status == 0 && applied.output.contains("dial_plan (1 rules)"), "\(applied.output)")
        #expect(try BackgroundEdge.show("calls", config: config)?["active"] as? Int == 1, "the call is still up after the reload")

        try await SippPhone.waitExit(calling, within: .seconds(30))
        let record = try #require(try records().first)
        #expect(record.endedBy == .caller && record.endStatus == 200 && (record.talkSeconds ?? 0) >= 5, "\(record)")
        #expect(caller.statistics()["SuccessfulCall(C)"] == "1", "\(caller.statistics())")
    }

    /// The call manager's address changes by reload: keep-alives go to the new one (Kamailio),
    /// which answers, and the edge that had failed over to survivable comes back to normal, with
    /// no restart and the branch's binding kept.
    @Test func aNewCallManagerAddressTakesEffectWithoutARestart() async throws {
        let state = NSTemporaryDirectory() + "outpost-reload-trunk-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: state) }
        let work = try RegistrarInteropTests.workDirectory()
        defer { try? FileManager.default.removeItem(atPath: work) }
        let kamailio = try await KamailioUnderTest.start()
        defer { kamailio.stop() }
        let port = try FreePort.pick()
        let silent = try FreePort.pick()
        let config = state + "/outpost.yaml"
        func write(callManager: Int) throws {
            try Self.configuration(
                port: port, state: state, devices: [("lobby", "2001")],
                extra: """
                    trunk:
                      call_managers:
                        - {transport: udp, address: 127.0.0.1, port: \(callManager)}
                      domain: 127.0.0.1
                      options_interval: 1
                      failover_misses: 2
                      failback_successes: 1
                      hold_down: 0
                    """
            ).write(toFile: config, atomically: true, encoding: .utf8)
        }
        try write(callManager: silent)
        let edge = try BackgroundEdge(launcher: [], config: config, log: state + "/edge.log")
        defer { edge.kill() }
        func mode() throws -> String? { try BackgroundEdge.show("trunk", config: config)?["mode"] as? String }
        try await BackgroundEdge.waitFor("failover from the silent call manager", timeout: .seconds(20)) { try mode() == "survivable" }
        try Self.register("2001", port: port, work: work)
        #expect(try Self.registeredLines(state) == ["2001"])

        try write(callManager: kamailio.port)
        let applied = try Self.reload(config)
        #expect(applied.status == 0 && applied.output.contains("trunk.call_managers (udp:127.0.0.1:\(kamailio.port))"), "\(applied.output)")
        #expect(!applied.output.contains("next start: trunk"), "\(applied.output)")
        try await BackgroundEdge.waitFor("failback to the new call manager", timeout: .seconds(20)) { try mode() == "normal" }
        let trunk = try #require(try BackgroundEdge.show("trunk", config: config))
        let managers = (trunk["call_managers"] as? [[String: Any]]) ?? []
        #expect(managers.count == 1 && managers.first?["port"] as? Int == kamailio.port && managers.first?["answering"] as? Bool == true, "\(managers)")
        #expect(try Self.registeredLines(state) == ["2001"], "the binding survived, and was handed back")
        #expect(edge.isRunning)
    }
}
