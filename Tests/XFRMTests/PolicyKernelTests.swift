import Glibc
import Testing
import XFRM
import XFRMTestSupport

/// Policies installed through libnl-xfrm and read back both by the wrapper and by iproute2's
/// `ip xfrm policy` (an independent reader).
@Suite("XFRM: policies through libnl, read back by ip", .serialized, .enabled(if: XFRMTestEnvironment.usable, "needs root and kernel XFRM"))
struct PolicyKernelTests {
    static let edge = XFRMAddress("192.0.2.1")!
    static let manager = XFRMAddress("198.51.100.7")!
    static let edge6 = XFRMAddress("2001:db8:1::1")!
    static let manager6 = XFRMAddress("2001:db8:2::7")!

    @Test func transportPolicyWithTemplateReadsBackEverywhere() throws {
        let namespace = try TestNetworkNamespace()
        defer { namespace.delete() }
        let socket = try namespace.enter { try NetlinkXFRMSocket() }
        let request = XFRMPolicyRequest(
            selector: .hosts(Self.edge, Self.manager, ipProtocol: 17, destinationPort: 5060),
            direction: .outbound, priority: 1000,
            templates: [XFRMTemplate(family: .ipv4, source: Self.edge, destination: Self.manager, reqid: 0x4f50)],
            lifetime: XFRMLifetime(softAddExpiresSeconds: 100, hardAddExpiresSeconds: 200))
        try socket.addPolicy(request)

        let policies = try socket.policies()
        try #require(policies.count == 1)
        let policy = policies[0]
        #expect(policy.direction == .outbound)
        #expect(policy.priority == 1000)
        #expect(policy.action == .allow)
        #expect(policy.selector == request.selector)
        #expect(policy.templates == request.templates)
        #expect(policy.lifetime == request.lifetime)
        #expect(policy.mark == nil)

        let text = try namespace.ip(["xfrm", "policy", "list"])
        #expect(text.contains("src 192.0.2.1/32 dst 198.51.100.7/32 proto udp dport 5060"), "\(text)")
        #expect(text.contains("dir out priority 1000"), "\(text)")
        #expect(text.contains("tmpl src 192.0.2.1 dst 198.51.100.7"), "\(text)")
        #expect(text.contains("proto esp reqid 20304 mode transport"), "\(text)")
        let detailed = try namespace.ip(["-s", "xfrm", "policy", "list"])
        #expect(detailed.contains("expire add: soft 100(sec), hard 200(sec)"), "\(detailed)")

        try socket.deletePolicy(policy)
        #expect(try socket.policies().isEmpty)
        #expect(try namespace.ip(["xfrm", "policy", "list"]).isEmpty)
    }

    @Test func ipv6InboundPolicyWithMarkAndSourcePort() throws {
        let namespace = try TestNetworkNamespace()
        defer { namespace.delete() }
        let socket = try namespace.enter { try NetlinkXFRMSocket() }
        let request = XFRMPolicyRequest(
            selector: .hosts(Self.manager6, Self.edge6, ipProtocol: 6, sourcePort: 5061),
            direction: .inbound, priority: 900,
            templates: [XFRMTemplate(family: .ipv6, source: Self.manager6, destination: Self.edge6, reqid: 7)],
            mark: XFRMMark(value: 0x10, mask: 0xF0))
        try socket.addPolicy(request)
        let policy = try #require(try socket.policies().first)
        #expect(policy.selector == request.selector)
        #expect(policy.templates == request.templates)
        #expect(policy.mark == XFRMMark(value: 0x10, mask: 0xF0))
        #expect(policy.direction == .inbound)

        let text = try namespace.ip(["xfrm", "policy", "list"])
        #expect(text.contains("src 2001:db8:2::7/128 dst 2001:db8:1::1/128 proto tcp sport 5061"), "\(text)")
        #expect(text.contains("dir in priority 900"), "\(text)")
        #expect(text.contains("mark 0x10/0xf0"), "\(text)")
        try socket.deletePolicy(policy)
        #expect(try socket.policies().isEmpty)
    }

    @Test func duplicatePolicyIsRefusedWithEEXIST() throws {
        let namespace = try TestNetworkNamespace()
        defer { namespace.delete() }
        let socket = try namespace.enter { try NetlinkXFRMSocket() }
        let request = XFRMPolicyRequest(
            selector: .hosts(Self.edge, Self.manager), direction: .outbound, priority: 10,
            templates: [XFRMTemplate(family: .ipv4, reqid: 1)])
        try socket.addPolicy(request)
        do throws(XFRMError) {
            try socket.addPolicy(request)
            Issue.record("a duplicate policy was accepted")
        } catch {
            #expect(error.errno == EEXIST, "\(error)")
            #expect(error.operation == "xfrmnl_sp_add")
        }
        // Update replaces in place: still one policy, now with the new priority.
        var changed = request
        changed.priority = 20
        try socket.updatePolicy(changed)
        let policies = try socket.policies()
        #expect(policies.count == 1)
        #expect(policies.first?.priority == 20)
    }

    @Test func blockPolicyAndDeletingAMissingPolicy() throws {
        let namespace = try TestNetworkNamespace()
        defer { namespace.delete() }
        let socket = try namespace.enter { try NetlinkXFRMSocket() }
        try socket.addPolicy(XFRMPolicyRequest(selector: .hosts(Self.edge, Self.manager, ipProtocol: 17), direction: .outbound, action: .block))
        #expect(try socket.policies().first?.action == .block)
        #expect(try namespace.ip(["xfrm", "policy", "list"]).contains("action block"))
        do throws(XFRMError) {
            try socket.deletePolicy(index: 0xFFFF_0001, direction: .outbound)
            Issue.record("deleting a missing policy succeeded")
        } catch {
            #expect(error.errno == ENOENT, "\(error)")
            #expect(error.operation == "xfrmnl_sp_delete")
        }
    }

    @Test func templateFamilyMismatchIsRefusedBeforeTheKernel() throws {
        let namespace = try TestNetworkNamespace()
        defer { namespace.delete() }
        let socket = try namespace.enter { try NetlinkXFRMSocket() }
        let request = XFRMPolicyRequest(
            selector: .hosts(Self.edge, Self.manager), direction: .outbound,
            templates: [XFRMTemplate(family: .ipv6, reqid: 1)])
        #expect(throws: XFRMError.self) { try socket.addPolicy(request) }
        #expect(try socket.policies().isEmpty)
    }
}
