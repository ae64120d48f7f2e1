import Foundation
import Testing
import TestRequirementSupport

extension TestRequirement {
    /// The programs these tests run, each from a package appliance/install-deps installs.
    static let tools = ["/usr/bin/rtpengine", "/usr/bin/tshark", "/usr/bin/dumpcap"]

    /// `true` when `path` is installed; otherwise records the unmet need and returns `false`.
    static func tool(_ path: String, sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        if FileManager.default.isExecutableFile(atPath: path) { return true }
        unmet("\(path) is missing; run appliance/install-deps", sourceLocation: sourceLocation)
        return false
    }
}

@Suite struct MediaPeerRequirementTests {
    /// A missing peer fails here whatever the environment: the rtpengine tests would otherwise pass quietly.
    @Test func everyToolInstallDepsInstallsIsPresent() {
        let missing = TestRequirement.tools.filter { !FileManager.default.isExecutableFile(atPath: $0) }
        #expect(missing.isEmpty, "missing \(missing); run appliance/install-deps")
    }

    /// Capturing on lo needs root (or dumpcap's capabilities, which install-deps does not grant).
    @Test func captureNeedsRootUnderCI() {
        guard TestRequirement.isCI else { return }
        #expect(geteuid() == 0, "CI runs as root, so the tshark checks run")
    }
}
