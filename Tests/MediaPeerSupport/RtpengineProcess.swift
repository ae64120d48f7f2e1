import Foundation
import Glibc

/// Debian's rtpengine as an independent SRTP peer: userspace forwarding only (`--table=-1`),
/// loopback media ports from a range probed free, the ng control protocol on a free loopback
/// port, logging to a file in its own temporary directory. `stop()` (also run on release) sends
/// SIGTERM, then SIGKILL after two seconds, and removes the directory.
public final class RtpengineProcess {
    public static let defaultExecutable = "/usr/bin/rtpengine"

    public let controlPort: UInt16
    public let mediaPorts: ClosedRange<UInt16>
    public let directory: URL
    public let logFile: URL
    /// Startup's pings: short, single attempts, polled until the deadline.
    private let startupControl: RtpengineControl
    public let arguments: [String]

    private let process: ChildProcess
    private var stopped = false

    /// Whether the program is installed (appliance/install-deps installs rtpengine-daemon).
    public static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: defaultExecutable) }

    /// Starts rtpengine and waits until it answers `ping` with `pong`.
    /// - Parameters:
    ///   - mediaPortCount: ports in its media range; each stream takes an RTP/RTCP pair.
    ///   - extraArguments: appended to the command line (for example `--endpoint-learning=immediate`).
    public init(
        executable: String = RtpengineProcess.defaultExecutable,
        mediaPortCount: Int = 40,
        extraArguments: [String] = [],
        startupTimeout: Duration = .seconds(5)
    ) throws {
        controlPort = try FreePorts.port()
        mediaPorts = try FreePorts.range(count: mediaPortCount)
        let base = FileManager.default.temporaryDirectory
        directory = base.appendingPathComponent("outpost-rtpengine-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        logFile = directory.appendingPathComponent("rtpengine.log")
        guard FileManager.default.createFile(atPath: logFile.path, contents: nil) else { throw RtpengineError.process("cannot create \(logFile.path)") }
        arguments = [
            // Only the command line counts: no /etc/rtpengine/rtpengine.conf section sneaks in.
            "--config-file=none",
            "--table=-1", "--no-fallback",
            "--interface=127.0.0.1",
            "--listen-ng=127.0.0.1:\(controlPort)",
            "--port-min=\(mediaPorts.lowerBound)", "--port-max=\(mediaPorts.upperBound)",
            "--foreground", "--log-stderr", "--log-level=6",
            "--pidfile=\(directory.appendingPathComponent("rtpengine.pid").path)",
            // A deleted call frees its ports at once, not after the default 30 s.
            "--delete-delay=0",
            // The suite runs on two cores; one worker thread of each kind is plenty for a test call.
            "--num-threads=1", "--media-num-threads=1",
        ] + extraArguments
        startupControl = RtpengineControl(port: controlPort, attemptTimeout: .milliseconds(250), attempts: 1)

        do {
            process = try ChildProcess(executable: executable, arguments: arguments, outputFile: logFile.path)
        } catch {
            try? FileManager.default.removeItem(at: directory)
            throw RtpengineError.process("cannot run \(executable): \(error)")
        }

        let deadline = ContinuousClock.now + startupTimeout
        while true {
            if !process.isRunning {
                let status = process.exitCode ?? -1
                let text = self.log
                stop()
                throw RtpengineError.process("exited with status \(status) during startup:\n\(text)")
            }
            if (try? startupControl.ping()) != nil { break }
            if ContinuousClock.now > deadline {
                let text = self.log
                stop()
                throw RtpengineError.process("no pong on 127.0.0.1:\(controlPort) within \(startupTimeout):\n\(text)")
            }
        }
    }

    deinit { stop() }

    /// The ng client for tests: one-second attempts, three of them.
    public var control: RtpengineControl { RtpengineControl(port: controlPort) }

    /// What rtpengine has logged so far, for failure messages.
    public var log: String {
        (try? String(contentsOf: logFile, encoding: .utf8)) ?? "(no log at \(logFile.path))"
    }

    /// The last `lines` lines of the log.
    public func logTail(_ lines: Int = 40) -> String {
        log.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    public var isRunning: Bool { process.isRunning }

    /// SIGTERM, SIGKILL after two seconds, then the temporary directory goes. Idempotent.
    public func stop() {
        guard !stopped else { return }
        stopped = true
        process.terminate(with: SIGTERM, grace: .seconds(2))
        if ProcessInfo.processInfo.environment["OUTPOST_KEEP_RTPENGINE_LOG"] == nil {
            try? FileManager.default.removeItem(at: directory)
        }
    }
}
