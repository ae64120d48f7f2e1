import Foundation

/// Runs a peer program from Debian (sipp, sipsak, …) with a time limit, as the tests' independent
/// counterpart to the edge.
struct ExternalTool {
    struct Outcome {
        let status: Int32
        let output: String
        let timedOut: Bool
    }

    static func path(_ name: String) -> String? {
        for directory in ["/usr/bin", "/usr/sbin", "/usr/local/bin", "/bin", "/sbin"] {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs to completion or kills it after `timeout`; standard output and error are merged.
    static func run(_ executable: String, _ arguments: [String], timeout: Duration = .seconds(30), directory: String? = nil) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let collector = OutputCollector(handle: pipe.fileHandleForReading)
        let deadline = ContinuousClock.now + timeout
        var timedOut = false
        while process.isRunning {
            if ContinuousClock.now > deadline {
                timedOut = true
                // SIGKILL: the child inherits this process's signal mask, in which SIGTERM may be blocked.
                kill(process.processIdentifier, SIGKILL)
                break
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        process.waitUntilExit()
        // A grandchild may still hold the pipe open; do not wait for it beyond a moment.
        return Outcome(status: process.terminationStatus, output: collector.finish(waitingAtMost: .seconds(2)), timedOut: timedOut)
    }
}

/// Drains a pipe on its own thread so a chatty child never blocks on a full pipe.
final class OutputCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(handle: FileHandle) {
        Thread.detachNewThread { [self] in
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                lock.lock()
                data.append(chunk)
                lock.unlock()
            }
            done.signal()
        }
    }

    /// What has arrived so far, while the process still runs.
    var current: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: data, as: UTF8.self)
    }

    func finish(waitingAtMost limit: Duration? = nil) -> String {
        if let limit {
            _ = done.wait(timeout: .now() + .milliseconds(Int(limit.components.seconds * 1000)))
        } else {
            done.wait()
        }
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: data, as: UTF8.self)
    }
}
