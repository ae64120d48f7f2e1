import Foundation
import Logging
import NIOCore
import OutpostBench
import Runtime
import SIPTransport

/// An edge in this process whose TFTP server listens on a free loopback port, with a directory
/// root and optionally the call manager's TFTP server as upstream.
final class TFTPEdge: Sendable {
    let runtime: OutpostRuntime
    let port: Int
    let stateDirectory: String
    let root: String
    private let task: Task<Void, any Error>

    init(
        upstreamPort: Int? = nil, upstreamAvailable: @escaping @Sendable () -> Bool = { true }, maximumTransfersPerClient: Int = 8,
        timeoutSeconds: Int = 1, retries: Int = 5
    ) async throws {
        stateDirectory = NSTemporaryDirectory() + "outpost-tftp-\(UUID().uuidString)"
        root = stateDirectory + "-root"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        var configuration = OutpostConfiguration(
            sip: .init(listeners: [.init(transport: .udp, address: "127.0.0.1", port: 0)]),
            tftp: .init(
                address: "127.0.0.1", port: 0, root: root,
                upstream: upstreamPort.map { .init(address: "127.0.0.1", port: $0) },
                maximumTransfers: 200, maximumTransfersPerClient: maximumTransfersPerClient,
                timeoutSeconds: timeoutSeconds, retries: retries),
            stateDirectory: stateDirectory, logLevel: .warning)
        configuration.admin.enabled = false
        let runtime = OutpostRuntime(configuration: configuration, tftpUpstreamAvailable: upstreamAvailable)
        self.runtime = runtime
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "tftp-edge-under-test")
        logger.logLevel = .warning
        task = Task { [logger] in
            defer { continuation.finish() }
            try await runtime.run(logger: logger, onTFTPListening: { continuation.yield($0.port ?? 0) })
        }
        let timeout = Task {
            try await Task.sleep(for: .seconds(10))
            continuation.finish()
        }
        var bound: Int?
        for await port in ports {
            bound = port
            break
        }
        timeout.cancel()
        guard let bound, bound > 0 else {
            task.cancel()
            if case .failure(let error) = await task.result { throw error }
            throw EdgeStartError(reason: "TFTP did not start listening")
        }
        port = bound
    }

    func stop() async {
        task.cancel()
        _ = await task.result
        try? FileManager.default.removeItem(atPath: stateDirectory)
        try? FileManager.default.removeItem(atPath: root)
    }

    /// Polls until `condition` holds, for at most `seconds`.
    func waitUntil(seconds: Double = 15, _ condition: () -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return condition()
    }
}

/// tftpd-hpa serving a directory of its own: the stand-in call manager.
final class TFTPDaemonUnderTest: Sendable {
    let directory: String
    private let daemon: TFTPDaemon
    var port: Int { daemon.port }

    init() throws {
        directory = NSTemporaryDirectory() + "tftpd-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        chmod(directory, 0o755)
        daemon = try TFTPDaemon(directory: directory)
    }

    func write(_ name: String, _ bytes: [UInt8]) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: directory + "/" + name))
        chmod(directory + "/" + name, 0o644)
    }

    func stop() { daemon.stop() }

    deinit {
        daemon.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
