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
    /// Spawned with posix_spawn, not Foundation's Process: Kamailio closes the descriptors it
    /// inherits, which Foundation takes for the child's exit, and its monitor thread then blocks
    /// in waitpid until Kamailio really exits — reaping no other child of this process meanwhile.
    public let processIdentifier: pid_t
    private var exited = false

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
        // 256 MiB of shared memory (64 by default): tens of thousands of bindings plus a TLS
        // connection's buffers under load exhaust the default.
        var arguments = ["-f", configurationFile, "-DD", "-E", "-m", "256", "-P", "\(workDirectory)/kamailio.pid", "-Y", workDirectory,
                         "-A", "CTL_SOCKET=\"unix:\(workDirectory)/ctl\""]
        for listener in listeners { arguments += ["-l", listener] }
        for define in defines { arguments += ["-A", define] }
        processIdentifier = try Self.spawn(launcher + [Self.executable] + arguments, output: "\(workDirectory)/kamailio.log")
    }

    /// Also starts the calls bench's rtpengine, which likewise must not be reaped by Foundation.
    static func spawn(_ command: [String], output: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // The parent may block SIGTERM; Kamailio must start with a clean mask.
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
        let argv = command.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, command[0], &actions, &attributes, argv, environ)
        guard result == 0 else { throw BenchmarkError(reason: "posix_spawn \(command[0]): \(String(cString: strerror(result)))") }
        return pid
    }

    deinit { stop() }

    public var isRunning: Bool {
        guard !exited else { return false }
        var status: Int32 = 0
        if waitpid(processIdentifier, &status, WNOHANG) == processIdentifier { exited = true }
        return !exited
    }

    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// SIGKILL to Kamailio and every process it forked; SIGKILL because a child of a Swift
    /// process may inherit a blocked SIGTERM.
    public func stop() {
        guard isRunning else { return }
        let workers = ProcessTree.descendants(of: processIdentifier)
        for pid in workers { kill(pid, SIGKILL) }
        kill(processIdentifier, SIGKILL)
        var status: Int32 = 0
        _ = waitpid(processIdentifier, &status, 0)
        exited = true
        // The workers are init's to reap now; their ports are free once they are gone.
        let deadline = ContinuousClock.now + .seconds(5)
        while workers.contains(where: ProcessTree.isAlive), ContinuousClock.now < deadline { usleep(10_000) }
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

    /// A zombie holds no sockets any more, so it counts as gone.
    static func isAlive(_ pid: Int32) -> Bool {
        guard let fields = statFields(of: pid) else { return false }
        return fields.first != "Z"
    }

    private static func parentProcess(of pid: Int32) -> Int32? {
        guard let fields = statFields(of: pid), fields.count > 1 else { return nil }
        return Int32(fields[1])
    }

    /// The fields of /proc/PID/stat from the state (field 3) on; the command name before it may
    /// contain spaces and parentheses, so they are counted after its last closing parenthesis.
    private static func statFields(of pid: Int32) -> [Substring]? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        return stat[stat.index(after: close)...].split(separator: " ")
    }
}
