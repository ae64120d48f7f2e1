import Foundation
import Glibc
import Testing
import TrunkIPsec
import XFRM
import XFRMTestSupport

/// Trunk protection against the host kernel, in private network namespaces. Hosts without ESP
/// (EPROTONOSUPPORT/ENOSYS for the SAs) still exercise policies, events, ownership and fail-closed
/// behaviour here; the complete path runs in the VM (`VMEndToEndTests`).
@Suite("Trunk protection: host kernel (policies, events, ownership)", .serialized, .enabled(if: XFRMTestEnvironment.usable, "needs root and kernel XFRM"))
struct TrunkKernelTests {
    let configuration = TrunkFixtures.configuration()

    @Test func applyInstallsPoliciesThatIPReadsBackAndFailsClosedWithoutESP() throws {
        let namespace = try TestNetworkNamespace()
        defer { namespace.delete() }
        let socket = try namespace.enter { try NetlinkXFRMSocket() }
        let engine = try TrunkProtectionEngine(configuration: configuration, keys: try TrunkFixtures.keys(), socket: socket)
        var applied = false
        do throws(TrunkProtectionError) {
            try engine.apply()
            applied = true
        } catch {
            // Without ESP the first SA is refused with the kernel's own errno and message.
            let kernel = try #require(error.kernelError, "\(error)")
            #expect([EPROTONOSUPPORT, ENOSYS].contains(kernel.errno), "\(error)")
            #expect(error.step.hasPrefix("install SA src 192.0.2.10 dst 192.0.2.1 proto esp spi 0x1001"), "inbound SAs go first: \(error)")
            print("host kernel refused the SAs (expected without ESP): \(error)")
        }
        let (assessment, _) = try engine.assess()
        #expect(assessment.missingPolicies.isEmpty)
        #expect(assessment.ownedPolicies.count == 16)
        #expect(applied == assessment.isProtected)

        // The independent reader: iproute2.
        let text = try namespace.ip(["xfrm", "policy", "list"])
        for (direction, selector) in [
            ("out", "src 192.0.2.1/32 dst 192.0.2.10/32 proto udp dport 5060"),
            ("out", "src 192.0.2.1/32 dst 192.0.2.10/32 proto tcp sport 5060"),
            ("in", "src 192.0.2.10/32 dst 192.0.2.1/32 proto udp sport 5060"),
            ("in", "src 192.0.2.10/32 dst 192.0.2.1/32 proto tcp dport 5060"),
            ("out", "src 2001:db8::1/128 dst 2001:db8::10/128 proto udp dport 5060"),
            ("in", "src 2001:db8::10/128 dst 2001:db8::1/128 proto tcp sport 5060"),
        ] {
            #expect(text.contains("\(selector) \n\tdir \(direction) priority 1000"), "\(selector) missing:\n\(text)")
        }
        #expect(text.components(separatedBy: "proto esp reqid 20304 mode transport").count - 1 == 16, "\(text)")
        #expect(text.contains("tmpl src 192.0.2.1 dst 192.0.2.10\n\t\tproto esp reqid 20304 mode transport"), "\(text)")
        #expect(text.contains("tmpl src 2001:db8::10 dst 2001:db8::1\n\t\tproto esp reqid 20304 mode transport"), "\(text)")
    }

    @Test func removeOwnedLeavesForeignPoliciesAlone() throws {
        let namespace = try TestNetworkNamespace()
        defer { namespace.delete() }
        // Someone else's policy on the same hosts, and one elsewhere.
        try namespace.ip(["xfrm", "policy", "add", "src", "192.0.2.1/32", "dst", "192.0.2.10/32", "proto", "udp", "dport", "9999",
                          "dir", "out", "priority", "50", "tmpl", "proto", "esp", "mode", "transport", "reqid", "7"])
        try namespace.ip(["xfrm", "policy", "add", "src", "10.0.0.0/8", "dst", "10.1.0.0/16", "dir", "in"])
        let socket = try namespace.enter { try NetlinkXFRMSocket() }
        let engine = try TrunkProtectionEngine(configuration: configuration, keys: try TrunkFixtures.keys(), socket: socket)
        _ = try? engine.apply()
        #expect(try socket.policies().count == 18)
        let removed = try engine.removeOwned()
        #expect(removed.policies.count == 16)
        let left = try socket.policies()
        #expect(left.count == 2)
        #expect(Set(left.map(\.priority)) == [50, 0])
        let text = try namespace.ip(["xfrm", "policy", "list"])
        #expect(text.contains("dport 9999"))
        #expect(!text.contains("reqid 20304"))
    }

    @Test func aForeignPolicyInTheWayIsAnErrorNotReplaced() throws {
        let namespace = try TestNetworkNamespace()
        defer { namespace.delete() }
        try namespace.ip(["xfrm", "policy", "add", "src", "192.0.2.1/32", "dst", "192.0.2.10/32", "proto", "udp", "dport", "5060",
                          "dir", "out", "priority", "1000", "tmpl", "proto", "esp", "mode", "transport", "reqid", "7"])
        let socket = try namespace.enter { try NetlinkXFRMSocket() }
        let engine = try TrunkProtectionEngine(configuration: configuration, keys: try TrunkFixtures.keys(), socket: socket)
        do throws(TrunkProtectionError) {
            try engine.apply()
            Issue.record("apply replaced a foreign policy")
        } catch {
            #expect(error.reason.contains("is not the edge's but occupies out src 192.0.2.1/32 dst 192.0.2.10/32 proto udp dport 5060"), "\(error)")
        }
        #expect(try namespace.ip(["xfrm", "policy", "list"]).contains("reqid 7"))
    }

    @Test func eventsReportPolicyChangesMadeByHand() throws {
        let namespace = try TestNetworkNamespace()
        defer { namespace.delete() }
        let events = try namespace.enter { try XFRMEventSocket() }
        try namespace.ip(["xfrm", "policy", "add", "src", "192.0.2.1/32", "dst", "192.0.2.10/32", "proto", "tcp", "sport", "5061",
                          "dir", "out", "priority", "77", "tmpl", "src", "192.0.2.1", "dst", "192.0.2.10", "proto", "esp", "mode", "transport", "reqid", "9"])
        var received = try events.receive(timeoutMilliseconds: 2000)
        guard case .policyAdded(let added)? = received.first else {
            Issue.record("expected policyAdded, got \(received)")
            return
        }
        #expect(added.selector == .hosts(TrunkFixtures.edge4, TrunkFixtures.manager4, ipProtocol: 6, sourcePort: 5061))
        #expect(added.priority == 77 && added.direction == .outbound)
        #expect(added.templates == [XFRMTemplate(family: .ipv4, source: TrunkFixtures.edge4, destination: TrunkFixtures.manager4, reqid: 9)])

        try namespace.ip(["xfrm", "policy", "delete", "src", "192.0.2.1/32", "dst", "192.0.2.10/32", "proto", "tcp", "sport", "5061", "dir", "out"])
        received = try events.receive(timeoutMilliseconds: 2000)
        guard case .policyDeleted(let deleted)? = received.first else {
            Issue.record("expected policyDeleted, got \(received)")
            return
        }
        #expect(deleted.selector == added.selector)
        #expect(deleted.templates.first?.reqid == 9)

        // The kernel announces a flush only when there was something to flush.
        try namespace.ip(["xfrm", "policy", "add", "src", "10.0.0.1/32", "dst", "10.0.0.2/32", "dir", "in"])
        _ = try events.receive(timeoutMilliseconds: 2000)
        try namespace.ip(["xfrm", "policy", "flush"])
        received = try events.receive(timeoutMilliseconds: 2000)
        #expect(received == [.policiesFlushed])
        #expect(try events.receive(timeoutMilliseconds: 50).isEmpty)
    }

    @Test func theDriverNoticesPoliciesDeletedByHandAndRepairsThem() throws {
        let namespace = try TestNetworkNamespace()
        defer { namespace.delete() }
        let (socket, events) = try namespace.enter { (try NetlinkXFRMSocket(), try XFRMEventSocket()) }
        // SIP-ports coverage on IPv4 only keeps the test small.
        let configuration = TrunkFixtures.configuration(managers: [TrunkFixtures.manager4])
        let keys = try TrunkFixtures.keys(managers: [TrunkFixtures.manager4])
        let driver = TrunkProtectionDriver(
            engine: try TrunkProtectionEngine(configuration: configuration, keys: keys, socket: socket), events: events)
        let started = driver.start()
        print(started.map(\.description).joined(separator: "\n"))
        // Fail closed: without every SA read back the trunk never comes up.
        #expect(!driver.verdict.isUp)
        #expect(!started.contains(.trunkUp))
        #expect(driver.monitor.alarms.values.contains { $0.code == .protectionMissing })
        _ = driver.poll(timeoutMilliseconds: 200)
        #expect(try socket.policies().count == 8)

        // Someone deletes the edge's policies by hand.
        try namespace.ip(["xfrm", "policy", "deleteall"])
        var noticed: [TrunkMonitor.Action] = []
        for _ in 0..<5 {
            noticed += driver.poll(timeoutMilliseconds: 300, now: { .now + .seconds(3600) })
            if try socket.policies().count == 8 { break }
        }
        print(noticed.map(\.description).joined(separator: "\n"))
        #expect(noticed.contains { if case .log(let line) = $0 { line.hasPrefix("kernel: policy deleted:") } else { false } })
        #expect(noticed.contains { if case .raise(let alarm) = $0 { alarm.code == .protectionMissing && alarm.message.contains("policy out src 192.0.2.1/32 dst 192.0.2.10/32 proto udp dport 5060 is missing") } else { false } })
        #expect(!driver.verdict.isUp)
        // Repaired: the policies are back, as ip reads them.
        #expect(try namespace.ip(["xfrm", "policy", "list"]).components(separatedBy: "reqid 20304").count - 1 == 8)
        _ = try driver.shutdown()
        #expect(try socket.policies().isEmpty)
    }
}
