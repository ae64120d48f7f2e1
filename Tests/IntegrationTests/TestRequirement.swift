import Foundation
import Testing
import TestRequirementSupport

extension TestRequirement {
    /// The programs the tests run, each from a package appliance/install-deps installs.
    static let tools = [
        "sipp", "sipsak", "socat", "baresip", "kamailio", "kamcmd", "openssl", "ip", "tftp", "atftp", "curl", "in.tftpd",
        "qemu-system-x86_64", "busybox", "cpio", "setpriv", "promtool", "tmux", "chromium",
    ]
}

@Suite struct TestRequirementTests {
    /// A missing tool fails here whatever the environment: install-deps is the precondition of
    /// the suite, so a test must never pass quietly without its peer.
    @Test func everyToolInstallDepsInstallsIsPresent() {
        let missing = TestRequirement.tools.filter { ExternalTool.path($0) == nil }
        #expect(missing.isEmpty, "missing \(missing); run appliance/install-deps")
    }

    /// The modules the call harness loads come with baresip-core, but a trimmed build may lack one.
    @Test func everyBaresipModuleTheCallHarnessLoadsIsPresent() {
        #expect(BaresipPhone.missingRequirement == nil, "run appliance/install-deps")
    }

    /// The namespace, XFRM and VM suites are enabled only as root; under CI they must run.
    @Test func rootGatedSuitesRunUnderCI() {
        guard TestRequirement.isCI else { return }
        #expect(geteuid() == 0, "CI runs as root, so the namespace and XFRM suites run")
        #expect(NetworkNamespaceLab.available, "the failover drill and the namespace lab would be skipped")
    }
}
