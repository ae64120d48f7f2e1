import Foundation
import Glibc
import Runtime
import Testing
import TrunkIPsec
import XFRM

/// `outpost ipsec` reads its configuration through the loader `outpost run` uses; these take the
/// place of the tests of the hand-written parser it had before.
@Suite("trunk_ipsec through the configuration loader (outpost ipsec and outpost run)")
struct TrunkIPsecConfigurationTests {
    /// The commented `trunk_ipsec:` example of appliance/outpost.yaml, uncommented.
    static func applianceExample() throws -> String {
        let installed = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("appliance/outpost.yaml")
        let lines = try String(contentsOf: installed, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        let start = try #require(lines.firstIndex(of: "# trunk_ipsec:"))
        let section = lines[start...].prefix { $0 == "# trunk_ipsec:" || $0.hasPrefix("#   ") }
        return section.map { String($0.dropFirst(2)) }.joined(separator: "\n") + "\n"
    }

    @Test func theApplianceExampleMeansWhatItsCommentsSay() throws {
        let text = try Self.applianceExample()
        let expected = TrunkProtectionConfiguration(
            keying: .manual, localAddresses: [XFRMAddress("192.0.2.1")!], callManagers: [XFRMAddress("192.0.2.10")!],
            coverage: .sipPorts, sipPorts: [5060, 5061], suite: .aes256gcm16, keyFile: "/etc/outpost/trunk-ipsec.keys",
            repair: .automatic)
        let parsed = try TrunkProtectionConfiguration.parse(text: text, file: "outpost.yaml")
        #expect(parsed == expected)
        // The very value `outpost run` hands to its TrunkProtectionService.
        #expect(try ConfigurationLoader.load(yaml: text, file: "outpost.yaml").trunkIPsec == parsed)
    }

    @Test func everyKeyIsRead() throws {
        let text = """
            # trunk protection
            trunk_ipsec:
              keying: manual
              local: [192.0.2.1, "2001:db8::1"]
              call_managers: [192.0.2.10, "2001:db8::10"]
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
              network_namespace: /run/netns/wan
            """
        let configuration = try TrunkProtectionConfiguration.parse(text: text, file: "t.yaml")
        #expect(configuration.localAddresses == [XFRMAddress("192.0.2.1")!, XFRMAddress("2001:db8::1")!])
        #expect(configuration.callManagers == [XFRMAddress("192.0.2.10")!, XFRMAddress("2001:db8::10")!])
        #expect(configuration.coverage == .all)
        #expect(configuration.sipProtocols == [.udp, .tcp, .sctp])
        #expect(configuration.suite == .aes128sha256)
        #expect(configuration.reqid == 0x1234)
        #expect(configuration.priority == 500)
        #expect(configuration.lifetime == XFRMLifetime(softByteLimit: 1_000_000, hardByteLimit: 2_000_000, softAddExpiresSeconds: 3000, hardAddExpiresSeconds: 3600))
        #expect(configuration.replayWindow == 128)
        #expect(configuration.keyFile == "/etc/outpost/k")
        #expect(configuration.repair == .manual)
        #expect(configuration.verifyIntervalSeconds == 5)
        #expect(configuration.rekeyGraceSeconds == 12)
        #expect(configuration.networkNamespace == "/run/netns/wan")
        #expect(configuration.pairs.count == 2)
    }

    @Test func defaultsAreSafeAndOtherSectionsAreReadToo() throws {
        let text = """
            sip:
              listen:
                - transport: udp
                  port: 5060
            trunk_ipsec:
              local: 10.0.0.1   # the edge
              call_managers: [10.0.0.2]
            log:
              level: info
            """
        let configuration = try TrunkProtectionConfiguration.parse(text: text, file: "outpost.yaml")
        #expect(configuration == TrunkProtectionConfiguration(localAddresses: [XFRMAddress("10.0.0.1")!], callManagers: [XFRMAddress("10.0.0.2")!]))
        #expect(configuration.keying == .manual && configuration.suite == .aes256gcm16 && configuration.reqid == 0x4F50)
    }

    func error(_ text: String) -> String {
        do throws(ConfigurationError) {
            _ = try TrunkProtectionConfiguration.parse(text: text, file: "t.yaml")
            return ""
        } catch {
            return error.description
        }
    }

    @Test func mistakesAreNamedWithFileLineAndKey() {
        let head = "trunk_ipsec:\n  local: 10.0.0.1\n"
        #expect(error(head + "  call_manager: 10.0.0.2\n").hasPrefix("t.yaml:3: trunk_ipsec.call_manager: unknown key (known: keying, local,"))
        #expect(error("trunk_ipsec:\n  local: 10.0.0.300\n") == "t.yaml:2: trunk_ipsec.local: \"10.0.0.300\" is not an IPv4 or IPv6 address")
        #expect(error(head + "  suite: aes256\n")
            == "t.yaml:3: trunk_ipsec.suite: \"aes256\" is not one of aes128gcm16, aes256gcm16, aes128-sha256, aes256-sha256")
        #expect(error(head + "  sip_ports: [5060, 0]\n") == "t.yaml:3: trunk_ipsec.sip_ports: \"0\" is not a port from 1 to 65535")
        #expect(error(head + "  reqid: 1\n  reqid: 2\n") == "t.yaml:4: trunk_ipsec.reqid: appears twice")
        #expect(error(head + "  coverage: [all]\n") == "t.yaml:3: trunk_ipsec.coverage: expects a single value, not a list")
        #expect(error(head + "  coverage:\n    mode: all\n") == "t.yaml:4: trunk_ipsec.coverage: must be a value or a list")
        #expect(error(head + "  call_managers: \"2001:db8::2\"\n")
            == "t.yaml:2: trunk_ipsec: call_managers: 2001:db8::2 has no local address of its family in local")
        #expect(error(head + "  call_managers: 10.0.0.2\n  reqid: 0\n")
            == "t.yaml:2: trunk_ipsec: reqid: 0 means \"any\" to the kernel and cannot tag the edge's SAs")
        #expect(error(head + "  call_managers: 10.0.0.2\n  lifetime_soft_bytes: 10\n  lifetime_hard_bytes: 5\n")
            == "t.yaml:2: trunk_ipsec: lifetime: soft byte limit 10 must be below the hard limit 5")
        #expect(error("sip:\n  lissen: []\ntrunk_ipsec:\n  local: 10.0.0.1\n  call_managers: 10.0.0.2\n").hasPrefix("t.yaml:2: sip.lissen: unknown key"))
        #expect(error("sip:\n  listen: []\n") == "t.yaml: trunk_ipsec: missing: the configuration has no trunk_ipsec section")
    }

    @Test func theCommandReadsTheFileWithPreciseErrors() throws {
        let path = "/tmp/outpost-tool-\(getpid())-\(UInt32.random(in: 0...UInt32.max))-outpost.yaml"
        defer { unlink(path) }
        try "trunk_ipsec:\n  local: 10.0.0.1\n  call_managers: [10.0.0.2]\n  coverage: everything\n".write(toFile: path, atomically: false, encoding: .utf8)
        #expect {
            try TrunkIPsecTool.loadConfiguration(path: path)
        } throws: { error in
            (error as? TrunkIPsecTool.Failure)?.description == "\(path):4: trunk_ipsec.coverage: \"everything\" is not one of sip-ports, all"
        }
        #expect {
            try TrunkIPsecTool.loadConfiguration(path: "/nonexistent/outpost.yaml")
        } throws: { error in
            (error as? TrunkIPsecTool.Failure)?.description == "/nonexistent/outpost.yaml: cannot open: No such file or directory (ENOENT)"
        }
    }
}
