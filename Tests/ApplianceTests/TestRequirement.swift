import Foundation
import Testing
import TestRequirementSupport

extension TestRequirement {
    /// The program at `path`, or nil after reporting it missing.
    static func tool(_ path: String, from package: String, sourceLocation: SourceLocation = #_sourceLocation) -> String? {
        if FileManager.default.isExecutableFile(atPath: path) { return path }
        unmet("\(path) is missing (Debian package \(package), installed by appliance/install-deps)", sourceLocation: sourceLocation)
        return nil
    }
}

/// Runs a program to completion and returns its status and merged output.
enum Command {
    struct Outcome {
        let status: Int32
        let output: String
    }

    static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("appliance-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: output) }
        let handle = try FileHandle(forWritingTo: output)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try handle.close()
        return Outcome(status: process.terminationStatus, output: (try? String(contentsOf: output, encoding: .utf8)) ?? "")
    }
}

/// Paths of the checkout and of the binaries built beside the tests.
enum Checkout {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static var builtBinary: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("outpost").path
    }
}
