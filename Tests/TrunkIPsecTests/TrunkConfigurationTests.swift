import Testing
import TrunkIPsec
import XFRM

@Suite("Trunk protection configuration")
struct TrunkConfigurationTests {
    @Test func fileWithEveryKeyParses() throws {
        let text = """
            # trunk protection
            trunk_ipsec:
              keying: manual
              local: [192.0.2.1, "2001:db8::1"]
              call_managers: [192.0.2.10, 2001:db8::10]
              coverage: all
              sip_ports: [5060, 5061]
              sip_protocols: [udp, tcp, sctp]
              suite: aes128-sha256
              reqid: 0x1234
              priority: 500
              lifetime_soft_bytes: 1000000
              lifetime_hard_bytes: 2000000
              lifetime_soft_packets: none
              lifetime_hard_packets: unlimited
              lifetime_soft_seconds: 3000
              lifetime_hard_seconds: 3600
              lifetime_soft_use_seconds: 0
              lifetime_hard_use_seconds: none
              replay_window: 128
              key_file: /etc/outpost/k
              repair: manual
              verify_interval: 5
              rekey_grace: 12
            """
        let configuration = try TrunkProtectionConfiguration.parse(text: text, file: "t.yaml")
        #expect(configuration.localAddresses == [XFRMAddress("192.0.2.1")!, XFRMAddress("2001:db8::1")!])
        #expect(configuration.callManagers.count == 2)
        #expect(configuration.coverage == .all)
        #expect(configuration.sipProtocols == [.udp, .tcp, .sctp])
        #expect(configuration.suite == .aes128sha256)
        #expect(configuration.reqid == 0x1234)
        #expect(configuration.priority == 500)
        #expect(configuration.lifetime == XFRMLifetime(softByteLimit: 1_000_000, hardByteLimit: 2_000_000, softAddExpiresSeconds: 3000, hardAddExpiresSeconds: 3600))
        #expect(configuration.replayWindow == 128)
        #expect(configuration.repair == .manual)
        #expect(configuration.verifyIntervalSeconds == 5)
        #expect(configuration.rekeyGraceSeconds == 12)
        #expect(configuration.pairs.count == 2)
    }

    @Test func defaultsAreSafe() throws {
        let configuration = try TrunkProtectionConfiguration.parse(text: "local: 10.0.0.1\ncall_managers: 10.0.0.2\n", file: "t")
        #expect(configuration.keying == .manual)
        #expect(configuration.suite == .aes256gcm16)
        #expect(configuration.coverage == .sipPorts)
        #expect(configuration.sipPorts == [5060, 5061])
        #expect(configuration.lifetime == .unlimited)
        #expect(configuration.reqid == 0x4F50)
    }

    func error(_ text: String) -> String {
        do throws(TrunkConfigurationError) {
            _ = try TrunkProtectionConfiguration.parse(text: text, file: "t.yaml")
            return ""
        } catch {
            return error.description
        }
    }

    @Test func mistakesAreNamedWithLineAndKey() {
        #expect(error("local: 10.0.0.1\ncall_manager: 10.0.0.2\n").hasPrefix("t.yaml:2: call_manager: unknown key (known: keying, local,"))
        #expect(error("local: 10.0.0.300\n") == "t.yaml:1: local: \"10.0.0.300\" is not an IPv4 or IPv6 address")
        #expect(error("suite: aes256\n") == "t.yaml:1: suite: \"aes256\" is not one of aes128gcm16, aes256gcm16, aes128-sha256, aes256-sha256")
        #expect(error("sip_ports: [5060, 0]\n") == "t.yaml:1: sip_ports: \"0\" is not a port from 1 to 65535")
        #expect(error("reqid: 1\nreqid: 2\n") == "t.yaml:2: reqid: given twice (first on line 1)")
        #expect(error("coverage: [all]\n") == "t.yaml:1: coverage: expects a single value, not a list")
        #expect(error("local: [10.0.0.1\n") == "t.yaml:1: local: a list must end with ]")
        #expect(error("local: 10.0.0.1\ncall_managers: 2001:db8::2\n") == "t.yaml: call_managers: 2001:db8::2 has no local address of its family in local")
        #expect(error("local: 10.0.0.1\ncall_managers: 10.0.0.2\nreqid: 0\n") == "t.yaml: reqid: 0 means \"any\" to the kernel and cannot tag the edge's SAs")
        #expect(error("local: 10.0.0.1\ncall_managers: 10.0.0.2\nlifetime_soft_bytes: 10\nlifetime_hard_bytes: 5\n")
            == "t.yaml: lifetime: soft byte limit 10 must be below the hard limit 5")
        #expect(error("local: 10.0.0.1\ncall_managers: 10.0.0.2\nlifetime_hard_packets: 0\n")
            == "t.yaml: lifetime: a hard byte or packet limit of 0 would expire the SA on its first packet")
    }
}

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

@Suite("Trunk protection configuration inside the edge's YAML")
struct TrunkConfigurationSectionTests {
    @Test func onlyTheTrunkIPsecSectionIsRead() throws {
        let text = """
            sip:
              listen:
                - transport: udp
                  port: 5060
            trunk_ipsec:
              local: 10.0.0.1   # the edge
              call_managers: [10.0.0.2]

              suite: aes128gcm16
            log:
              level: info
            """
        let configuration = try TrunkProtectionConfiguration.parse(text: text, file: "outpost.yaml")
        #expect(configuration.suite == .aes128gcm16)
        #expect(configuration.callManagers == [XFRMAddress("10.0.0.2")!])
    }

    @Test func nestedYAMLInTheSectionIsExplained() {
        do throws(TrunkConfigurationError) {
            _ = try TrunkProtectionConfiguration.parse(text: "trunk_ipsec:\n  local:\n    - 10.0.0.1\n", file: "o.yaml")
            Issue.record("accepted")
        } catch {
            #expect(error.description.hasPrefix("o.yaml:2: local: missing value (nested YAML is not used here"))
        }
    }
}
