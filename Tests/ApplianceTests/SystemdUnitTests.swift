import Foundation
import Testing
import TestRequirementSupport

/// systemd/outpost.service as systemd 252 (Debian 12) reads it: `systemd-analyze verify` finds
/// nothing to say, and `systemd-analyze security` rates its exposure 2.0 or better.
@Suite struct SystemdUnitTests {
    static let analyze = "/usr/bin/systemd-analyze"
    static let unit = Checkout.root + "/systemd/outpost.service"

    /// verify checks that ExecStart= exists, so it reads a copy whose binary is the one just built.
    @Test func verifyIsClean() throws {
        guard let analyze = TestRequirement.tool(Self.analyze, from: "systemd") else { return }
        let binary = Checkout.builtBinary
        try #require(FileManager.default.isExecutableFile(atPath: binary), "\(binary) is built beside the tests")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("outpost-unit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let text = try String(contentsOfFile: Self.unit, encoding: .utf8)
        #expect(text.contains("/usr/local/bin/outpost run"), "the unit runs the binary appliance/install installs")
        let copy = directory.appendingPathComponent("outpost.service").path
        try text.replacingOccurrences(of: "/usr/local/bin/outpost", with: binary).write(toFile: copy, atomically: true, encoding: .utf8)
        let outcome = try Command.run(analyze, ["verify", copy])
        #expect(outcome.status == 0, "\(outcome.output)")
        #expect(outcome.output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "verify complains:\n\(outcome.output)")
    }

    @Test func securityExposureIsAtMostTwo() throws {
        guard let analyze = TestRequirement.tool(Self.analyze, from: "systemd") else { return }
        let outcome = try Command.run(analyze, ["security", "--offline=yes", "--no-pager", Self.unit])
        #expect(outcome.status == 0, "\(outcome.output)")
        let exposure = try #require(Self.overallExposure(outcome.output), "no overall exposure in:\n\(outcome.output)")
        #expect(exposure <= 2.0, "exposure \(exposure):\n\(outcome.output)")
    }

    /// The figure of "→ Overall exposure level for outpost.service: 1.6 OK".
    static func overallExposure(_ output: String) -> Double? {
        guard let line = output.split(separator: "\n").last(where: { $0.contains("Overall exposure level") }),
              let colon = line.lastIndex(of: ":") else { return nil }
        return line[line.index(after: colon)...].split(separator: " ").first.flatMap { Double($0) }
    }

    @Test func exposureIsReadFromTheOverallLine() {
        #expect(Self.overallExposure("✗ PrivateNetwork= … 0.5\n→ Overall exposure level for outpost.service: 1.6 OK 🙂\n") == 1.6)
        #expect(Self.overallExposure("→ Overall exposure level for x.service: 9.6 UNSAFE 😨") == 9.6)
        #expect(Self.overallExposure("nothing") == nil)
    }

    /// The settings issue 14 asks for, so a later edit that drops one fails here, not in the field.
    @Test func unitKeepsTheNotifyProtocolUserAndCapabilities() throws {
        let lines = Set(try String(contentsOfFile: Self.unit, encoding: .utf8).split(separator: "\n").map(String.init))
        let required = [
            "Type=notify", "NotifyAccess=main", "WatchdogSec=30", "ExecReload=/bin/kill -HUP $MAINPID", "User=outpost", "Group=outpost",
            "AmbientCapabilities=CAP_NET_BIND_SERVICE CAP_NET_ADMIN", "CapabilityBoundingSet=CAP_NET_BIND_SERVICE CAP_NET_ADMIN",
            "StateDirectory=outpost", "ConfigurationDirectory=outpost", "ProtectSystem=strict", "NoNewPrivileges=yes",
            "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK", "SystemCallFilter=@system-service",
            "MemoryDenyWriteExecute=yes", "UMask=0077",
        ]
        let missing = required.filter { !lines.contains($0) }
        #expect(missing.isEmpty, "systemd/outpost.service lacks \(missing)")
    }
}
