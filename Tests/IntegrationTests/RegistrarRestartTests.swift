import Foundation
import OutpostBench
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The real binary, survivable because its call manager never answers, killed with SIGKILL
/// after a phone registered: the restarted edge knows the phone without it registering again.
@Suite(.serialized) struct RegistrarRestartTests {
    @Test func bindingsSurviveKillNineWhileSurvivable() async throws {
        let state = NSTemporaryDirectory() + "outpost-restart-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: state) }
        let port = Int.random(in: 20_000...40_000)
        let silentCallManager = try SilentUDPPeer()
        let config = state + "/outpost.yaml"
        try """
            sip:
              listen:
                - {transport: udp, address: 127.0.0.1, port: \(port)}
            trunk:
              call_managers:
                - {transport: udp, address: 127.0.0.1, port: \(silentCallManager.localPort)}
              options_interval: 1
              failover_misses: 2
            registrar:
              digest_algorithms: [MD5]
            devices:
              - name: soft-3001
                lines: ["3001"]
                security: non-secure
                digest: {username: "3001", password: s3cret}
            tftp: {enabled: false}
            state_directory: \(state)
            log: {level: warning}
            """.write(toFile: config, atomically: true, encoding: .utf8)

        let first = try BackgroundEdge(launcher: [], config: config, log: state + "/first.log")
        defer { first.kill() }
        try await BackgroundEdge.waitFor("failover", timeout: .seconds(15)) { try BackgroundEdge.show("trunk", config: config)?["mode"] as? String == "survivable" }
        let trunk = try #require(try BackgroundEdge.show("trunk", config: config))
        let history = try #require((trunk["state"] as? [String: Any])?["history"] as? [[String: Any]])
        #expect(history.last?["cause"] as? String == "2 keep-alives unanswered (last: no answer within 625 ms from udp:127.0.0.1:\(silentCallManager.localPort))", "\(history)")

        let work = try RegistrarInteropTests.workDirectory()
        defer { try? FileManager.default.removeItem(atPath: work) }
        let (registered, log) = try RegistrarInteropTests.sipp(
            ["127.0.0.1:\(port)", "-sf", "\(RegistrarInteropTests.fixtures)/sipp-register-digest.xml", "-t", "u1", "-s", "3001", "-au", "3001", "-ap", "s3cret", "-m", "1"],
            work: work)
        #expect(registered.status == 0, "\(log.suffix(2000))")
        first.kill()

        let second = try BackgroundEdge(launcher: [], config: config, log: state + "/second.log")
        defer { second.kill() }
        var bindings: [[String: Any]] = []
        try await BackgroundEdge.waitFor("the restarted edge", timeout: .seconds(15)) {
            bindings = try BackgroundEdge.show("registrations", config: config)?["bindings"] as? [[String: Any]] ?? []
            return !bindings.isEmpty
        }
        #expect(bindings.count == 1)
        #expect(bindings.first?["address_of_record"] as? String == "3001")
        #expect(bindings.first?["device"] as? String == "soft-3001")
        #expect(bindings.first?["user_agent"] as? String == "sipp")
        second.kill()
    }
}

extension RegistrarRestartTests {
    /// SIGTERM while a keep-alive waits for a call manager that never answers: the edge stops at
    /// once, and the cut-short keep-alive is not taken for a failed trunk.
    @Test func sigtermWithAKeepAliveOutstandingStopsPromptlyAndQuietly() async throws {
        let state = NSTemporaryDirectory() + "outpost-sigterm-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: state) }
        let silentCallManager = try SilentUDPPeer()
        let config = state + "/outpost.yaml"
        try """
            sip:
              listen:
                - {transport: udp, address: 127.0.0.1, port: \(try FreePort.pick())}
            trunk:
              call_managers:
                - {transport: udp, address: 127.0.0.1, port: \(silentCallManager.localPort)}
              options_interval: 10
            tftp: {enabled: false}
            state_directory: \(state)
            log: {level: notice}
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let log = state + "/edge.log"
        let edge = try BackgroundEdge(launcher: [], config: config, log: log)
        defer { edge.kill() }
        try await BackgroundEdge.waitFor("the edge", timeout: .seconds(15)) { try BackgroundEdge.show("trunk", config: config) != nil }
        let stopping = ContinuousClock.now
        let exit = try #require(edge.terminate(within: .seconds(5)), "the edge did not stop within 5 s of SIGTERM")
        #expect(exit == 0)
        #expect(stopping.duration(to: .now) < .seconds(3))
        let text = try String(contentsOfFile: log, encoding: .utf8)
        #expect(text.contains("Outpost stopped"), "\(text.suffix(1000))")
        #expect(!text.contains("survivable"), "\(text.suffix(1000))")
    }
}

/// A UDP port on 127.0.0.1 that takes datagrams and never answers: a call manager that hangs.
final class SilentUDPPeer {
    let descriptor: Int32
    let localPort: Int

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(descriptor, pointer, length) == 0 && getsockname(descriptor, pointer, &length) == 0
            }
        }
        guard descriptor >= 0, bound else { throw SocketError(operation: "bind") }
        self.descriptor = descriptor
        localPort = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(descriptor) }
}
