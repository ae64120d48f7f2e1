import Foundation
import Testing

/// What a test needs from the machine. appliance/install-deps installs every tool, and CI runs as
/// root, so under `CI=true` nothing may be skipped: an unmet need is a failure there, and a note on
/// a developer's machine that lacks root.
enum TestRequirement {
    static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    static func unmet(_ reason: String, sourceLocation: SourceLocation = #_sourceLocation) {
        if isCI {
            Issue.record("CI=true, yet \(reason)", sourceLocation: sourceLocation)
        } else {
            print("skipped: \(reason)")
        }
    }

    /// The programs the tests run, each from a package appliance/install-deps installs.
    static let tools = [
        "sipp", "sipsak", "socat", "baresip", "kamailio", "kamcmd", "openssl", "ip", "tftp", "atftp", "curl", "in.tftpd",
        "qemu-system-x86_64", "busybox", "cpio", "setpriv",
    ]
}

@Suite struct TestRequirementTests {
    /// A missing tool fails here whatever the environment: install-deps is the precondition of
    /// the suite, so a test must never pass quietly without its peer.
    @Test func everyToolInstallDepsInstallsIsPresent() {
        let missing = TestRequirement.tools.filter { ExternalTool.path($0) == nil }
        #expect(missing.isEmpty, "missing \(missing); run appliance/install-deps")
    }

    /// The namespace, XFRM and VM suites are enabled only as root; under CI they must run.
    @Test func rootGatedSuitesRunUnderCI() {
        guard TestRequirement.isCI else { return }
        #expect(geteuid() == 0, "CI runs as root, so the namespace and XFRM suites run")
        #expect(NetworkNamespaceLab.available, "the failover drill and the namespace lab would be skipped")
    }
}
