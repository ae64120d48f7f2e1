import Glibc
import Testing
import XFRM
import XFRMTestSupport

@Suite("XFRM: values and errors")
struct XFRMValueTests {
    @Test func addressesParseAndPrint() {
        #expect(XFRMAddress("192.0.2.7")?.bytes == [192, 0, 2, 7])
        #expect(XFRMAddress("192.0.2.7")?.family == .ipv4)
        #expect(XFRMAddress("2001:db8::1")?.family == .ipv6)
        #expect(XFRMAddress("2001:db8::1")?.description == "2001:db8::1")
        #expect(XFRMAddress("300.1.1.1") == nil)
        #expect(XFRMAddress("sip.example.com") == nil)
        #expect(XFRMAddress.any(.ipv6).description == "::")
    }

    @Test func requestDescriptionNeverShowsKeys() {
        let request = XFRMStateRequest(
            source: XFRMAddress("10.0.0.1")!, destination: XFRMAddress("10.0.0.2")!, spi: 0x1000,
            algorithms: .rfc4106AES128GCM(keyAndSalt: [UInt8](repeating: 0xAB, count: 20)))
        #expect(request.description.contains("rfc4106(gcm(aes))"))
        #expect(request.description.contains("160-bit key"))
        #expect(!request.description.lowercased().contains("abab"))
    }

    @Test func errorDescribesEveryLayer() {
        let error = XFRMError(
            operation: "xfrmnl_sa_add", errno: EPROTONOSUPPORT, kernelMessage: "Requested type not found",
            libnlCode: 9, libnlMessage: "Protocol mismatch")
        #expect(error.errnoName == "EPROTONOSUPPORT")
        #expect(error.description.contains("EPROTONOSUPPORT (\(EPROTONOSUPPORT)"))
        #expect(error.description.contains("kernel: Requested type not found"))
        #expect(error.description.contains("libnl: Protocol mismatch"))
    }
}

@Suite("XFRM: kernel state through libnl", .serialized, .enabled(if: XFRMTestEnvironment.usable, "needs root and kernel XFRM"))
struct XFRMKernelTests {
    @Test func freshNamespaceHasNoStatesOrPolicies() throws {
        let namespace = try TestNetworkNamespace()
        defer { namespace.delete() }
        let socket = try namespace.enter { try NetlinkXFRMSocket() }
        #expect(socket.extendedAckEnabled)
        let snapshot = try socket.snapshot()
        #expect(snapshot.states.isEmpty)
        #expect(snapshot.policies.isEmpty)
    }

    @Test func policyInstalledByIPIsReadBack() throws {
        let namespace = try TestNetworkNamespace()
        defer { namespace.delete() }
        try namespace.ip([
            "xfrm", "policy", "add", "src", "10.1.0.1/32", "dst", "10.2.0.0/16", "proto", "udp", "dport", "5060",
            "dir", "out", "priority", "100",
            "tmpl", "src", "10.1.0.1", "dst", "10.2.0.1", "proto", "esp", "mode", "tunnel",
        ])
        let socket = try namespace.enter { try NetlinkXFRMSocket() }
        let policies = try socket.policies()
        try #require(policies.count == 1)
        let policy = policies[0]
        #expect(policy.direction == .outbound)
        #expect(policy.priority == 100)
        #expect(policy.allows)
        #expect(policy.templateCount == 1)
        #expect(policy.selector.source == XFRMAddress("10.1.0.1"))
        #expect(policy.selector.sourcePrefixLength == 32)
        #expect(policy.selector.destination == XFRMAddress("10.2.0.0"))
        #expect(policy.selector.destinationPrefixLength == 16)
        #expect(policy.selector.ipProtocol == 17)
        #expect(policy.selector.destinationPort == 5060)
        #expect(try socket.states().isEmpty)
    }

    /// Adding an ESP SA either works and reads back, or fails with the kernel's own errno and
    /// extended-ack text. Kernels without ESP answer EPROTONOSUPPORT ("Requested type not found");
    /// those also lacking the AEAD transform answer ENOSYS ("Requested AEAD algorithm not found")
    /// first. Either way the errno must be the kernel's, not libnl's generic code.
    @Test(arguments: [
        XFRMAlgorithms.rfc4106AES128GCM(keyAndSalt: Array(1...20)),
        .cipherAndAuthentication(
            cipher: "cbc(aes)", cipherKey: Array(1...16),
            authentication: "hmac(sha256)", authenticationKey: Array(1...32), truncationBits: 128),
    ])
    func espStateIsInstalledOrTheKernelErrnoIsSurfaced(algorithms: XFRMAlgorithms) throws {
        let namespace = try TestNetworkNamespace()
        defer { namespace.delete() }
        let socket = try namespace.enter { try NetlinkXFRMSocket() }
        let request = XFRMStateRequest(
            source: XFRMAddress("10.0.0.1")!, destination: XFRMAddress("10.0.0.2")!, spi: 0x0102_0304,
            mode: .transport, reqid: 7, algorithms: algorithms)
        do throws(XFRMError) {
            try socket.addState(request)
        } catch {
            print("kernel refused \(request): \(error)")
            #expect(error.operation == "xfrmnl_sa_add")
            #expect([EPROTONOSUPPORT, ENOSYS].contains(error.errno), "unexpected errno: \(error)")
            #expect(error.errnoName == (error.errno == ENOSYS ? "ENOSYS" : "EPROTONOSUPPORT"))
            #expect(error.libnlCode != 0)
            if socket.extendedAckEnabled {
                #expect(error.kernelMessage?.isEmpty == false, "extended ack lost: \(error)")
            }
            #expect(try socket.states().isEmpty)
            return
        }
        let states = try socket.states()
        try #require(states.count == 1)
        #expect(states[0].spi == 0x0102_0304)
        #expect(states[0].source == XFRMAddress("10.0.0.1"))
        #expect(states[0].destination == XFRMAddress("10.0.0.2"))
        #expect(states[0].proto == .esp)
        #expect(states[0].mode == .transport)
        #expect(states[0].reqid == 7)
        try socket.deleteState(destination: XFRMAddress("10.0.0.2")!, spi: 0x0102_0304)
        #expect(try socket.states().isEmpty)
    }

    @Test func deletingAMissingStateSurfacesESRCH() throws {
        let namespace = try TestNetworkNamespace()
        defer { namespace.delete() }
        let socket = try namespace.enter { try NetlinkXFRMSocket() }
        do throws(XFRMError) {
            try socket.deleteState(destination: XFRMAddress("10.9.9.9")!, spi: 0xdead)
            Issue.record("deleting a missing SA succeeded")
        } catch {
            #expect(error.errno == ESRCH, "\(error)")
            #expect(error.errnoName == "ESRCH")
            #expect(error.operation == "xfrmnl_sa_delete")
        }
    }

    @Test func mixedFamiliesAreRefusedBeforeTheKernel() throws {
        let namespace = try TestNetworkNamespace()
        defer { namespace.delete() }
        let socket = try namespace.enter { try NetlinkXFRMSocket() }
        let request = XFRMStateRequest(
            source: XFRMAddress("10.0.0.1")!, destination: XFRMAddress("2001:db8::2")!, spi: 1,
            algorithms: .rfc4106AES128GCM(keyAndSalt: Array(1...20)))
        #expect {
            try socket.addState(request)
        } throws: { error in
            let error = error as? XFRMError
            return error?.errno == EINVAL && error?.libnlCode == 0 && error?.detail != nil
        }
    }
}

@Suite("XFRM: the event parser")
struct XFRMEventParserTests {
    @Test func theEventParserSurvivesGarbage() {
        var generator = SystemRandomNumberGenerator()
        for length in [0, 1, 15, 16, 17, 40, 300, 1000] {
            for _ in 0..<200 {
                var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
                if length >= 16 {
                    // A plausible header: a length inside the buffer and an XFRM message type.
                    let claimed = UInt32.random(in: 16...UInt32(length), using: &generator)
                    withUnsafeBytes(of: claimed) { bytes.replaceSubrange(0..<4, with: $0) }
                    bytes[4] = UInt8.random(in: 0x10...0x26, using: &generator)
                    bytes[5] = 0
                }
                _ = XFRMEvent.parse(messages: bytes)
            }
        }
        #expect(XFRMEvent.parse(messages: []).isEmpty)
    }
}
