import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A Kamailio started in the foreground with a configuration of our own, for the register bench's
/// baseline and the registrar tests' stand-in call manager. Its log goes to `kamailio.log` in the
/// work directory; `stop()` kills the whole process tree, because Kamailio's worker processes
/// outlive a killed main process and would keep its ports.
public final class KamailioProcess: @unchecked Sendable {
    public static let executable = "/usr/sbin/kamailio"
    public static let controlTool = "/usr/sbin/kamcmd"

    public let workDirectory: String
    /// The `ctl` module's binrpc socket, for `kamcmd -s`.
    public var controlSocket: String { "unix:\(workDirectory)/ctl" }
    public var logPath: String { "\(workDirectory)/kamailio.log" }
    private let process = Process()

    /// - Parameters:
    ///   - listeners: Kamailio's `-l` values, e.g. `udp:127.0.0.1:5060`.
    ///   - defines: `-A` values beyond the control socket, e.g. `WITH_TLS`, `TLS_CONFIG="/path"`.
    ///   - launcher: a command prefix, e.g. `["/usr/sbin/ip", "netns", "exec", "hq"]`.
    public init(configurationFile: String, listeners: [String], defines: [String], workDirectory: String, launcher: [String] = []) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.executable) else {
            throw BenchmarkError(reason: "\(Self.executable) is missing; appliance/install-deps installs kamailio")
        }
        self.workDirectory = workDirectory
        try FileManager.default.createDirectory(atPath: workDirectory, withIntermediateDirectories: true)
        var arguments = ["-f", configurationFile, "-DD", "-E", "-P", "\(workDirectory)/kamailio.pid", "-Y", workDirectory,
                         "-A", "CTL_SOCKET=\"\(controlSocket)\""]
        for listener in listeners { arguments += ["-l", listener] }
        for define in defines { arguments += ["-A", define] }
        let command = launcher + [Self.executable] + arguments
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        process.currentDirectoryURL = URL(fileURLWithPath: workDirectory)
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try log.close()
    }

    deinit { stop() }

    public var isRunning: Bool { process.isRunning }

    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// SIGKILL to Kamailio and every process it forked; SIGKILL because a child of a Swift
    /// process may inherit a blocked SIGTERM.
    public func stop() {
        guard process.isRunning else { return }
        for pid in ProcessTree.descendants(of: process.processIdentifier) { kill(pid, SIGKILL) }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Runs `kamcmd` against this Kamailio's control socket and returns its output.
    public func control(_ command: [String], timeout: Duration = .seconds(10)) throws -> String {
        let tool = Process()
        tool.executableURL = URL(fileURLWithPath: Self.controlTool)
        tool.arguments = ["-s", controlSocket] + command
        let output = "\(workDirectory)/kamcmd-\(UUID().uuidString).out"
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: output) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        tool.standardOutput = handle
        tool.standardError = handle
        try tool.run()
        let deadline = ContinuousClock.now + timeout
        while tool.isRunning, ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.01) }
        if tool.isRunning { kill(tool.processIdentifier, SIGKILL) }
        tool.waitUntilExit()
        try handle.close()
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        guard tool.terminationStatus == 0 else {
            throw BenchmarkError(reason: "kamcmd \(command.joined(separator: " ")) failed (\(tool.terminationStatus)): \(text)")
        }
        return text
    }
}

/// The processes below one process, read from /proc.
enum ProcessTree {
    static func descendants(of root: Int32) -> [Int32] {
        var children: [Int32: [Int32]] = [:]
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let pid = Int32(entry), let parent = parentProcess(of: pid) else { continue }
            children[parent, default: []].append(pid)
        }
        var found: [Int32] = []
        var queue = children[root] ?? []
        while let next = queue.popLast() {
            found.append(next)
            queue += children[next] ?? []
        }
        return found
    }

    /// Field 4 of /proc/PID/stat; the command name in field 2 may contain spaces and parentheses,
    /// so the fields are counted after its closing parenthesis.
    private static func parentProcess(of pid: Int32) -> Int32? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 1 ? Int32(fields[1]) : nil
    }
}
