import Foundation

/// A peer program that runs beside a test (socat relay, baresip) until the test stops it, with
/// its output in a file and a hard time limit after which it is killed anyway.
final class BackgroundTool: @unchecked Sendable {
    let process = Process()
    let outputPath: String
    private let watchdog: DispatchWorkItem

    init(_ command: [String], timeout: Duration = .seconds(60), directory: String? = nil) throws {
        outputPath = NSTemporaryDirectory() + "tool-\(UUID().uuidString).log"
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try output.close()
        let pid = process.processIdentifier
        watchdog = DispatchWorkItem { kill(pid, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(Int(timeout.components.seconds)), execute: watchdog)
    }

    deinit { stop() }

    var output: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }

    /// SIGKILL: the child inherits this process's signal mask, in which SIGTERM may be blocked.
    func stop() {
        watchdog.cancel()
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: outputPath)
    }

    /// A socat that listens for plain TCP on 127.0.0.1 and carries each connection over mutual
    /// TLS (the test PKI's phone certificate) to `tlsPort`: how sipp, which has no TLS client
    /// certificate support of its own, talks to a TLS listener. Returns once it accepts.
    static func tlsRelay(listenPort: Int, tlsPort: Int, identity: String = "phone") throws -> BackgroundTool {
        let socat = try ExternalTool.path("socat") ?? { throw LabError(reason: "socat is installed by appliance/install-deps") }()
        let relay = try BackgroundTool([
            socat, "TCP-LISTEN:\(listenPort),bind=127.0.0.1,reuseaddr,fork",
            "OPENSSL:127.0.0.1:\(tlsPort),cert=\(IntegrationPKI.path("\(identity).pem")),key=\(IntegrationPKI.path("\(identity).key")),cafile=\(IntegrationPKI.path("ca.pem"))",
        ])
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if let text = try? String(contentsOfFile: "/proc/net/tcp", encoding: .utf8),
               text.contains(String(format: "0100007F:%04X 00000000:0000 0A", listenPort)) {
                return relay
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        relay.stop()
        throw LabError(reason: "socat did not listen on 127.0.0.1:\(listenPort) within 10 s")
    }
}
