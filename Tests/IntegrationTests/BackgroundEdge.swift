import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The real binary, started through a launcher (e.g. `ip netns exec`), logging to a file.
final class BackgroundEdge {
    private let process = Process()

    init(launcher: [String], config: String, log: String) throws {
        let command = launcher + [BinaryTests.binary, "run", "--config", config]
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    var isRunning: Bool { process.isRunning }

    func signal(_ number: Int32) { Glibc.kill(process.processIdentifier, number) }

    /// SIGTERM, then the exit status if it exits within `limit` (else nil; `kill()` finishes it).
    func terminate(within limit: Duration) -> Int32? {
        Glibc.kill(process.processIdentifier, SIGTERM)
        let deadline = ContinuousClock.now + limit
        while process.isRunning, ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.02) }
        return process.isRunning ? nil : process.terminationStatus
    }

    func kill() {
        guard process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// `outpost show <topic> --json` against the edge of `config`; nil while it does not answer.
    static func show(_ topic: String, config: String) throws -> [String: Any]? {
        let outcome = try ExternalTool.run(BinaryTests.binary, ["show", topic, "--json", "--config", config], timeout: .seconds(10))
        guard outcome.status == 0 else { return nil }
        return try JSONSerialization.jsonObject(with: Data(outcome.output.utf8)) as? [String: Any]
    }

    /// Polls `condition` until it holds, recording an issue after `timeout`.
    static func waitFor(_ what: String, timeout: Duration, _ condition: () throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try condition() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("timed out waiting for \(what)")
    }
}
