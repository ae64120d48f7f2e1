import Testing
import TrunkIPsec
import XFRM

@Suite("Trunk desired state: config + keys -> exact SAs and policies")
struct TrunkDesiredStateTests {
    @Test func sipPortsCoverageBothDirectionsBothFamilies() throws {
        let configuration = TrunkFixtures.configuration()
        let desired = try TrunkDesiredState.compute(configuration: configuration, keys: try TrunkFixtures.keys())
        // 2 peers x 2 protocols x 1 port x 4 selectors
        #expect(desired.policies.count == 16)
        #expect(desired.policies.allSatisfy { $0.protects && $0.request.priority == 1000 && $0.request.action == .allow })
        let v4 = desired.policies.filter { $0.peer.remote == TrunkFixtures.manager4 }.map(\.request)
        let out = v4.filter { $0.direction == .outbound }.map(\.selector)
        #expect(out.contains(.hosts(TrunkFixtures.edge4, TrunkFixtures.manager4, ipProtocol: 17, destinationPort: 5060)))
        #expect(out.contains(.hosts(TrunkFixtures.edge4, TrunkFixtures.manager4, ipProtocol: 6, sourcePort: 5060)))
        let inbound = v4.filter { $0.direction == .inbound }.map(\.selector)
        #expect(inbound.contains(.hosts(TrunkFixtures.manager4, TrunkFixtures.edge4, ipProtocol: 17, sourcePort: 5060)))
        #expect(inbound.contains(.hosts(TrunkFixtures.manager4, TrunkFixtures.edge4, ipProtocol: 6, destinationPort: 5060)))
        for policy in v4 {
            let template = try #require(policy.templates.first)
            #expect(policy.templates.count == 1)
            #expect(template.proto == .esp && template.mode == .transport && template.reqid == 0x4F50 && !template.optional && template.spi == 0)
            #expect(template.source == policy.selector.source && template.destination == policy.selector.destination)
        }

        #expect(desired.states.count == 4)
        let outSA = try #require(desired.states.first { $0.peer.remote == TrunkFixtures.manager6 && $0.direction == .outbound }).request
        #expect(outSA.source == TrunkFixtures.edge6 && outSA.destination == TrunkFixtures.manager6)
        #expect(outSA.spi == 0x1002)
        #expect(outSA.reqid == 0x4F50 && outSA.mode == .transport && outSA.proto == .esp)
        #expect(outSA.selector == .hosts(TrunkFixtures.edge6, TrunkFixtures.manager6))
        #expect(outSA.algorithms.info == .aead(name: "rfc4106(gcm(aes))", keyBits: 288, icvBits: 128))
        let inSA = try #require(desired.states.first { $0.peer.remote == TrunkFixtures.manager6 && $0.direction == .inbound }).request
        #expect(inSA.source == TrunkFixtures.manager6 && inSA.destination == TrunkFixtures.edge6 && inSA.spi == 0x1003)
    }

    @Test func allTrafficCoverageAddsNeighbourDiscoveryBypassesForIPv6Only() throws {
        let configuration = TrunkFixtures.configuration(coverage: .all)
        let desired = try TrunkDesiredState.compute(configuration: configuration, keys: try TrunkFixtures.keys())
        let v4 = desired.policies.filter { $0.peer.remote == TrunkFixtures.manager4 }
        #expect(v4.map(\.request.selector) == [.hosts(TrunkFixtures.edge4, TrunkFixtures.manager4), .hosts(TrunkFixtures.manager4, TrunkFixtures.edge4)])
        let v6 = desired.policies.filter { $0.peer.remote == TrunkFixtures.manager6 }
        let bypasses = v6.filter { !$0.protects }
        #expect(bypasses.count == 4)
        #expect(bypasses.allSatisfy { $0.request.templates.isEmpty && $0.request.priority == 999 && $0.request.selector.ipProtocol == 58 })
        #expect(Set(bypasses.map(\.request.selector.sourcePort)) == [135, 136])
        #expect(v6.filter(\.protects).count == 2)
    }

    @Test func externalKeyingInstallsNoStates() throws {
        let desired = try TrunkDesiredState.compute(configuration: TrunkFixtures.configuration(keying: .external), keys: nil)
        #expect(desired.states.isEmpty)
        #expect(desired.policies.count == 16)
    }

    @Test func manualKeyingWithoutKeysIsRefused() {
        #expect(throws: TrunkConfigurationError.self) {
            try TrunkDesiredState.compute(configuration: TrunkFixtures.configuration(), keys: nil)
        }
    }
}
