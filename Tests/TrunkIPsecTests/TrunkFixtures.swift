import TrunkIPsec
import XFRM

/// Shared configurations and key files for the trunk-protection tests.
enum TrunkFixtures {
    static let edge4 = XFRMAddress("192.0.2.1")!
    static let manager4 = XFRMAddress("192.0.2.10")!
    static let edge6 = XFRMAddress("2001:db8::1")!
    static let manager6 = XFRMAddress("2001:db8::10")!

    static func configuration(
        suite: TrunkCipherSuite = .aes256gcm16, coverage: TrunkProtectionConfiguration.Coverage = .sipPorts,
        keying: TrunkProtectionConfiguration.Keying = .manual, managers: [XFRMAddress] = [manager4, manager6]
    ) -> TrunkProtectionConfiguration {
        TrunkProtectionConfiguration(
            keying: keying, localAddresses: [edge4, edge6], callManagers: managers, coverage: coverage,
            sipPorts: [5060], sipProtocols: [.udp, .tcp], suite: suite, reqid: 0x4F50, priority: 1000)
    }

    /// Deterministic, distinct, non-zero key material.
    static func hex(bytes: Int, seed: UInt8) -> String {
        "0x" + (0..<bytes).map { index in
            let value = UInt8(truncatingIfNeeded: Int(seed) &* 31 &+ index &* 7 &+ 1)
            let digits = String(value, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined()
    }

    static func transform(_ suite: TrunkCipherSuite, seed: UInt8) -> String {
        if suite.isAEAD {
            return "aead rfc4106(gcm(aes)) \(hex(bytes: suite.cipherKeyBytes, seed: seed)) 128"
        }
        return "enc cbc(aes) \(hex(bytes: suite.cipherKeyBytes, seed: seed)) auth-trunc hmac(sha256) \(hex(bytes: 32, seed: seed &+ 100)) 128"
    }

    static func keyFile(suite: TrunkCipherSuite = .aes256gcm16, managers: [XFRMAddress] = [manager4, manager6], spiBase: UInt32 = 0x1000) -> String {
        var lines = ["# test keys", TrunkKeyFile.header, ""]
        for (index, manager) in managers.enumerated() {
            let seed = UInt8(index * 2 + 1)
            lines.append("sa \(manager) out spi 0x\(String(spiBase + UInt32(index) * 2, radix: 16)) \(transform(suite, seed: seed))")
            lines.append("sa \(manager) in spi 0x\(String(spiBase + UInt32(index) * 2 + 1, radix: 16)) \(transform(suite, seed: seed &+ 1))")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func keys(suite: TrunkCipherSuite = .aes256gcm16, managers: [XFRMAddress] = [manager4, manager6], spiBase: UInt32 = 0x1000) throws -> TrunkKeys {
        try TrunkKeyFile.parse(
            text: keyFile(suite: suite, managers: managers, spiBase: spiBase), file: "test.keys",
            configuration: configuration(suite: suite, managers: managers))
    }
}
