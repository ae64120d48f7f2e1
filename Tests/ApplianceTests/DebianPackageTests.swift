import Foundation
import Testing
import TestRequirementSupport

#if canImport(Glibc)
import Glibc
#endif

/// appliance/build-deb's package, built around the binary beside the tests: what it holds,
/// lintian's verdict (no errors), and a real `dpkg -i` and `dpkg --purge` on this machine. Where
/// systemd runs, the postinst starts the unit; here (no systemd in CI) it is checked with
/// check-config instead.
@Suite(.serialized) struct DebianPackageTests {
    @Test func thePackageIsLintianCleanInstallsAndPurgesWithoutATrace() throws {
        guard geteuid() == 0 else {
            TestRequirement.unmet("dpkg -i and dpkg --purge need root")
            return
        }
        guard let dpkg = TestRequirement.tool("/usr/bin/dpkg", from: "dpkg"),
            let lintian = TestRequirement.tool("/usr/bin/lintian", from: "lintian"),
            TestRequirement.tool("/usr/bin/patchelf", from: "patchelf") != nil
        else { return }
        let binary = Checkout.builtBinary
        try #require(FileManager.default.isExecutableFile(atPath: binary), "\(binary) is built beside the tests")
        #expect(try Command.run(dpkg, ["-s", "outpost"]).status != 0, "outpost is not installed on this machine before the test")
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("outpost-deb-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        let built = try Command.run("/bin/bash", [Checkout.root + "/appliance/build-deb", "--binary", binary, "--output", output])
        try #require(built.status == 0, "\(built.output)")
        let package = try #require(built.output.split(separator: "\n").last.map(String.init))
        #expect(package.hasSuffix("_amd64.deb") || package.hasSuffix(".deb"))

        let contents = try Command.run("/usr/bin/dpkg-deb", ["-c", package]).output
        for path in ["./usr/bin/outpost", "./lib/systemd/system/outpost.service", "./etc/outpost/outpost.yaml", "./usr/lib/sysctl.d/60-outpost.conf",
                     "./usr/share/doc/outpost/copyright", "./usr/share/doc/outpost/changelog.gz"] {
            #expect(contents.contains(path), "\(path) in:\n\(contents)")
        }
        #expect(!contents.contains("/usr/local"), "Debian packages stay out of /usr/local")
        #expect(contents.split(separator: "\n").allSatisfy { $0.contains("root/root") }, "every file owned by root in the archive")
        #expect(try Command.run("/usr/bin/dpkg-deb", ["-f", package, "Depends"]).output.contains("libsrtp2-1"))

        let verdict = try Command.run(lintian, ["--tag-display-limit", "0", package])
        let errors = verdict.output.split(separator: "\n").filter { $0.hasPrefix("E: ") }
        print("lintian: \(verdict.output.split(separator: "\n").filter { $0.hasPrefix("E: ") || $0.hasPrefix("W: ") }.joined(separator: "; "))")
        #expect(errors.isEmpty, "lintian errors:\n\(errors.joined(separator: "\n"))")

        let installed = try Command.run(dpkg, ["-i", package])
        defer { _ = try? Command.run(dpkg, ["--purge", "outpost"]) }
        #expect(installed.status == 0, "\(installed.output)")
        var environment = ProcessInfo.processInfo.environment
        // The test binary links the toolchain's Swift runtime; the released one carries it inside.
        environment["LD_LIBRARY_PATH"] = environment["LD_LIBRARY_PATH"] ?? "/opt/swift/usr/lib/swift/linux"
        let version = try Command.run("/usr/bin/outpost", ["--version"], environment: environment)
        #expect(version.status == 0 && !version.output.isEmpty, "\(version.output)")
        let checked = try Command.run("/usr/bin/outpost", ["check-config", "--config", "/etc/outpost/outpost.yaml"], environment: environment)
        #expect(checked.status == 0, "the installed configuration is valid: \(checked.output)")
        #expect(try Command.run("/usr/bin/getent", ["passwd", "outpost"]).status == 0, "the outpost user exists")
        var info = stat()
        #expect(stat("/etc/outpost/outpost.yaml", &info) == 0 && info.st_mode & 0o777 == 0o640, "the configuration is not world-readable")
        #expect(stat("/var/lib/outpost", &info) == 0 && info.st_mode & 0o777 == 0o700, "the state directory is the edge's alone")
        let unit = try String(contentsOfFile: "/lib/systemd/system/outpost.service", encoding: .utf8)
        #expect(unit.contains("ExecStart=/usr/bin/outpost run --config /etc/outpost/outpost.yaml"))
        #expect(try Command.run(dpkg, ["-s", "outpost"]).output.contains("Status: install ok installed"))

        let purged = try Command.run(dpkg, ["--purge", "outpost"])
        #expect(purged.status == 0, "\(purged.output)")
        for path in ["/usr/bin/outpost", "/etc/outpost", "/var/lib/outpost", "/lib/systemd/system/outpost.service", "/usr/lib/sysctl.d/60-outpost.conf"] {
            #expect(!FileManager.default.fileExists(atPath: path), "\(path) is gone after the purge")
        }
        #expect(try Command.run("/usr/bin/getent", ["passwd", "outpost"]).status != 0, "the outpost user is gone after the purge")
    }
}
