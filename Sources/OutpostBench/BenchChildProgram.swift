import Foundation

/// `outpost-bench-child`, the program that runs a benchmark's or a crash test's child process
/// (Tests/Tools/outpost-bench-child), so the product binary carries no hidden test commands.
/// It is built into the same products directory as `outpost`.
public enum BenchChildProgram {
    public static let name = "outpost-bench-child"

    /// The program next to the running executable (symbolic links resolved), if it is there.
    public static func besideThisExecutable() throws -> String {
        try besideThisExecutable(named: name)
    }

    /// The program `name` next to the running executable, for the bench tools built beside it.
    static func besideThisExecutable(named name: String) throws -> String {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let path = executable.deletingLastPathComponent().appendingPathComponent(name).path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw BenchmarkError(
                reason: "\(path) is missing: build it beside \(executable.lastPathComponent) with "
                    + "`swift build -c release --product \(name)` (or `swift build -c release`)")
        }
        return path
    }
}
