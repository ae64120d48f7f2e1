import Foundation
import Logging
import NIOCore
import Runtime
import SIPTransport
import Synchronization

/// An edge running in this process on loopback ports of its own, for peers to talk to.
final class EdgeUnderTest: Sendable {
    let port: Int
    let runtime: OutpostRuntime
    let stateDirectory: String
    private let task: Task<Void, any Error>
    private let adminAddress: AdminAddress

    /// The TLS listener, when started with `tls`, is one port above the UDP/TCP one.
    var tlsPort: Int { port + 1 }

    static func start(
        idleTimeoutSeconds: Int = 300, maximumMessageSize: Int = 65_535, tls: OutpostConfiguration.TLS? = nil,
        tlsListenerClientCertificates: OutpostConfiguration.TLS.ClientCertificates? = nil, logger: Logger? = nil,
        configure: @Sendable (inout OutpostConfiguration) -> Void = { _ in }
    ) async throws -> EdgeUnderTest {
        var lastError: (any Error)?
        for _ in 0..<20 {
            let port = Int.random(in: 20_000...40_000)
            do {
                return try await EdgeUnderTest(
                    port: port, idleTimeoutSeconds: idleTimeoutSeconds, maximumMessageSize: maximumMessageSize, tls: tls,
                    tlsListenerClientCertificates: tlsListenerClientCertificates, logger: logger, configure: configure)
            } catch {
                lastError = error
            }
        }
        throw lastError!
    }

    private init(
        port: Int, idleTimeoutSeconds: Int, maximumMessageSize: Int, tls: OutpostConfiguration.TLS?,
        tlsListenerClientCertificates: OutpostConfiguration.TLS.ClientCertificates?, logger given: Logger?,
        configure: @Sendable (inout OutpostConfiguration) -> Void
    ) async throws {
        self.port = port
        stateDirectory = NSTemporaryDirectory() + "outpost-test-\(UUID().uuidString)"
        var listeners: [OutpostConfiguration.Listener] = [
            .init(transport: .udp, address: "127.0.0.1", port: port),
            .init(transport: .tcp, address: "127.0.0.1", port: port),
        ]
        if tls != nil {
            listeners.append(.init(transport: .tls, address: "127.0.0.1", port: port + 1, clientCertificates: tlsListenerClientCertificates))
        }
        var configuration = OutpostConfiguration(
            sip: .init(
                listeners: listeners, tls: tls ?? OutpostConfiguration.TLS(),
                maximumMessageSize: maximumMessageSize, idleTimeoutSeconds: idleTimeoutSeconds),
            // Several edges run at once; TFTP tests start their own on a free port.
            tftp: .init(enabled: false), stateDirectory: stateDirectory, logLevel: .warning)
        // Several edges run at once; a test of the admin listener turns it on with a port of its own.
        configuration.admin.enabled = false
        configure(&configuration)
        let runtime = OutpostRuntime(configuration: configuration)
        self.runtime = runtime
        let ready = AsyncStream<Void>.makeStream()
        var logger = given ?? Logger(label: "edge-under-test")
        if given == nil { logger.logLevel = .warning }
        let adminAddress = AdminAddress()
        self.adminAddress = adminAddress
        task = Task { [logger] in
            defer { ready.continuation.finish() }
            try await runtime.run(
                logger: logger, onListening: { _ in ready.continuation.yield() },
                onAdminListening: { [adminAddress] address in adminAddress.value.withLock { $0 = .some(address) } })
        }
        let started = Task {
            for await _ in ready.stream { return true }
            return false
        }
        let timeout = Task {
            try await Task.sleep(for: .seconds(5))
            ready.continuation.finish()
        }
        let outcome = await started.value
        timeout.cancel()
        if !outcome {
            task.cancel()
            if case .failure(let error) = await task.result { throw error }
            throw EdgeStartError(reason: "did not start listening")
        }
    }

    var statistics: SIPTransportStatistics { runtime.statistics }

    /// The admin listener's port, once it has tried to bind (nil when it could not); turn it on
    /// with `configuration.admin.enabled = true` and port 0.
    func adminPort(waitingAtMost limit: Duration = .seconds(5)) async throws -> Int? {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if let tried = adminAddress.value.withLock({ $0 }) { return tried?.port }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw EdgeStartError(reason: "the admin listener did not start within \(limit)")
    }

    func stop() async {
        task.cancel()
        _ = await task.result
        try? FileManager.default.removeItem(atPath: stateDirectory)
    }
}

/// Where the admin listener bound (nil inside: it could not), once it has tried.
private final class AdminAddress: Sendable {
    let value = Mutex<SocketAddress??>(nil)
}

struct EdgeStartError: Error {
    let reason: String
}
