import Foundation
import Testing

/// What a test needs from the machine. appliance/install-deps installs every tool, and CI runs as
/// root, so under `CI=true` nothing may be skipped: an unmet need is a failure there, and a note on
/// a developer's machine that lacks a tool or root. Each test target adds the tools it needs.
public enum TestRequirement {
    public static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    public static func unmet(_ reason: String, sourceLocation: SourceLocation = #_sourceLocation) {
        if isCI {
            Issue.record("CI=true, yet \(reason)", sourceLocation: sourceLocation)
        } else {
            print("skipped: \(reason)")
        }
    }
}
