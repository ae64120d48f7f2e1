import Edge
import Foundation
import Logging
import Runtime
import Testing
import TestRequirementSupport

/// `outpost run` with trunk_ipsec, programming a network namespace the test creates: the trunk
/// comes up only when policies and SAs are in place, the domain sees the status, and stopping
/// removes exactly what the edge installed.
@Suite(.serialized) struct TrunkIPsecRunTests {
    @Test func trunkIsProtectedOrStaysDownAndNothingIsLeftBehind() async throws {
        guard getuid() == 0 else {
            TestRequirement.unmet("creating a network namespace and programming XFRM needs root")
            return
        }
        let namespace = "outpost-trunk-\(getpid())"
        let created = try ExternalTool.run("/usr/sbin/ip", ["netns", "add", namespace])
        try #require(created.status == 0, "\(created.output)")
        defer { _ = try? ExternalTool.run("/usr/sbin/ip", ["netns", "del", namespace]) }

        let work = NSTemporaryDirectory() + "outpost-trunk-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let port = Int.random(in: 20_000...40_000)
        let yaml = """
            sip:
              listen:
                - {transport: udp, address: 127.0.0.1, port: \(port)}
            trunk_ipsec:
              keying: manual
              local: [192.0.2.1]
              call_managers: [192.0.2.10]
              key_file: \(work)/trunk.keys
              network_namespace: /run/netns/\(namespace)
            state_directory: \(work)/state
            log:
              level: warning
            """
        try yaml.write(toFile: "\(work)/outpost.yaml", atomically: true, encoding: .utf8)
        let keygen = try ExternalTool.run(BinaryTests.binary, ["ipsec", "keygen", "--config", "\(work)/outpost.yaml", "--output", "\(work)/trunk.keys"])
        try #require(keygen.status == 0, "\(keygen.output)")

        let configuration = try ConfigurationLoader.load(yaml: yaml, file: "outpost.yaml")
        let runtime = OutpostRuntime(configuration: configuration)
        let trunk = try #require(runtime.trunkProtection)
        #expect(await trunk.currentStatus() == .starting)
        let task = Task { try await runtime.run(logger: Logger(label: "trunk-test")) }

        var status = TrunkProtectionStatus.starting
        for await update in trunk.statusUpdates() where update != .starting {
            status = update
            break
        }
        let states = try ExternalTool.run("/usr/sbin/ip", ["-n", namespace, "xfrm", "state"]).output
        let policies = try ExternalTool.run("/usr/sbin/ip", ["-n", namespace, "xfrm", "policy"]).output
        switch status.state {
        case .protected:
            // A kernel with ESP: both SAs read back by iproute2, tagged with the edge's reqid.
            #expect(states.components(separatedBy: "proto esp").count - 1 == 2, "\(states)")
            #expect(states.contains("reqid 20304"))
            #expect(status.mayCarrySignalling(to: "192.0.2.10"))
        case .unprotected(let reason):
            // No ESP here: the policies stand (so nothing leaks in clear), the SAs could not be
            // added, and the trunk must not carry signalling.
            #expect(reason.contains("missing"), "\(reason)")
            #expect(!states.contains("proto esp"), "\(states)")
            #expect(!status.mayCarrySignalling(to: "192.0.2.10"))
        }
        #expect(policies.contains("proto esp reqid 20304 mode transport"), "\(policies)")

        task.cancel()
        _ = await task.result
        let afterStates = try ExternalTool.run("/usr/sbin/ip", ["-n", namespace, "xfrm", "state"]).output
        let afterPolicies = try ExternalTool.run("/usr/sbin/ip", ["-n", namespace, "xfrm", "policy"]).output
        #expect(afterStates.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "\(afterStates)")
        #expect(afterPolicies.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "\(afterPolicies)")
    }
}
