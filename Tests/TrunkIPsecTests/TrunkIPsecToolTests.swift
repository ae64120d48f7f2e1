import Foundation
import Glibc
import Testing
import TrunkIPsec
import XFRM

@Suite("outpost ipsec commands (TrunkIPsecTool)")
struct TrunkIPsecToolTests {
    func temporaryPath(_ name: String) -> String {
        "/tmp/outpost-tool-\(getpid())-\(UInt32.random(in: 0...UInt32.max))-\(name)"
    }

    @Test(arguments: TrunkCipherSuite.allCases)
    func keygenWritesA0600FileThatParsesAndNeverOverwrites(suite: TrunkCipherSuite) throws {
        let configuration = TrunkFixtures.configuration(suite: suite)
        let path = temporaryPath("keys")
        defer { unlink(path) }
        let outcome = try TrunkIPsecTool.keygen(configuration: configuration, output: path, avoidingSPIs: [0x1000])
        #expect(outcome.status == 0)
        var status = stat()
        #expect(stat(path, &status) == 0)
        #expect(status.st_mode & 0o777 == 0o600)
        let keys = try TrunkKeyFile.load(path: path, configuration: configuration)
        #expect(keys.entries.count == 4)
        #expect(Set(keys.entries.map(\.spi)).count == 4)
        #expect(!keys.entries.contains { $0.spi == 0x1000 || $0.spi < 0x100 })
        #expect(throws: TrunkIPsecTool.Failure.self) {
            try TrunkIPsecTool.keygen(configuration: configuration, output: path)
        }
        // Two runs never produce the same keys.
        let second = temporaryPath("keys2")
        defer { unlink(second) }
        _ = try TrunkIPsecTool.keygen(configuration: configuration, output: second)
        #expect(try TrunkKeyFile.load(path: second, configuration: configuration) != keys)
    }

    @Test func peerConfigSwapsDirectionsAndCarriesTheSameKeys() throws {
        let configuration = TrunkFixtures.configuration(coverage: .all, managers: [TrunkFixtures.manager4, TrunkFixtures.manager6])
        let keys = try TrunkFixtures.keys()
        let text = TrunkIPsecTool.peerConfiguration(configuration: configuration, keys: keys)
        let out = try #require(keys.entry(peer: TrunkFixtures.manager4, direction: .outbound))
        guard case .aead(_, let key, _) = out.algorithms else { Issue.record("not AEAD"); return }
        let hex = key.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        #expect(text.contains("ip xfrm state add src 192.0.2.1 dst 192.0.2.10 proto esp spi 0x00001000 reqid 1 mode transport replay-window 0 aead 'rfc4106(gcm(aes))' 0x\(hex) 128"))
        // The edge's outbound policy is the peer's inbound one.
        #expect(text.contains("ip xfrm policy add src 192.0.2.1/32 dst 192.0.2.10/32 dir in priority 1000 tmpl src 192.0.2.1 dst 192.0.2.10 proto esp reqid 1 mode transport"))
        #expect(text.contains("ip xfrm policy add src 2001:db8::10/128 dst 2001:db8::1/128 proto ipv6-icmp type 136 dir out priority 999"))
    }

    @Test func aHostileKeyFileIsRefusedBeforeAnythingIsInstalled() throws {
        let path = temporaryPath("bad.keys")
        defer { unlink(path) }
        try TrunkFixtures.keyFile().replacingOccurrences(of: "spi 0x1001", with: "spi 0x1000").write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, 0o600)
        #expect {
            try TrunkIPsecTool.loadKeys(configuration: TrunkFixtures.configuration(), path: path)
        } throws: { error in
            (error as? TrunkIPsecTool.Failure)?.description
                == "refusing the key file, nothing was installed:\n\(path):5: SPI 0x00001000 is already used on line 4; every SA needs its own SPI"
        }
    }
}
