import Foundation
import Glibc

/// A child program started with `posix_spawn`, its standard output and error appended to files.
///
/// Not Foundation's `Process`: a child inherits the signal mask of the thread that spawns it, and
/// the test runner's threads block nearly every signal (SigBlk `fffffffe3bfbea27` on tshark), so a
/// `Process` child never sees SIGINT or SIGTERM and cannot finish cleanly (tshark loses the
/// packets it has not flushed). Here the mask is emptied and dispositions reset in the child.
public final class ChildProcess {
    public let pid: pid_t
    public let executable: String
    private var status: Int32?

    /// - Parameter errorFile: where standard error goes; `nil` sends it to `outputFile` too.
    public init(executable: String, arguments: [String], outputFile: String, errorFile: String? = nil) throws {
        self.executable = executable
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputFile, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        if let errorFile {
            posix_spawn_file_actions_addopen(&actions, 2, errorFile, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        } else {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let result = posix_spawn(&child, executable, &actions, &attributes, argv, environ)
        guard result == 0 else { throw SocketError("posix_spawn \(executable)", result) }
        pid = child
    }

    deinit { terminate() }

    /// Reaps the child if it has exited.
    public var isRunning: Bool {
        if status != nil { return false }
        var raw: Int32 = 0
        let reaped = waitpid(pid, &raw, WNOHANG)
        if reaped == pid || (reaped < 0 && errno == ECHILD) {
            status = raw
            return false
        }
        return true
    }

    /// The exit code, or 128 + the signal that ended it; `nil` while it runs.
    public var exitCode: Int32? {
        guard !isRunning, let status else { return nil }
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    public func signal(_ number: Int32) {
        if isRunning { kill(pid, number) }
    }

    /// Waits up to `timeout` for the child to exit on its own; `true` if it did.
    @discardableResult
    public func wait(timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while isRunning {
            if ContinuousClock.now >= deadline { return false }
            usleep(10_000)
        }
        return true
    }

    /// Sends `signal`, waits `grace`, then SIGKILL, and reaps the child. Idempotent.
    public func terminate(with signal: Int32 = SIGTERM, grace: Duration = .seconds(2)) {
        guard isRunning else { return }
        kill(pid, signal)
        if wait(timeout: grace) { return }
        kill(pid, SIGKILL)
        wait(timeout: .seconds(5))
    }
}
