import Foundation
import NIOCore
import NIOEmbedded
import NIOPosix
import PKI
import Synchronization
import TLS

#if canImport(Glibc)
import Glibc
#endif

/// `outpost bench tls`: full mutual-TLS handshakes per second through the NIO handler next to the
/// same OpenSSL handshakes done back to back in memory, for an EC P-256 and an RSA-2048 server
/// key; and the server's memory per established idle TLS connection.
public struct TLSBenchmark {
    public let secondsPerMeasurement: Double
    public let idleConnections: Int
    /// `outpost-bench-child`, which opens the idle connections in a process of its own.
    public let childExecutable: String

    public init(secondsPerMeasurement: Double, idleConnections: Int, childExecutable: String) {
        self.secondsPerMeasurement = secondsPerMeasurement
        self.idleConnections = idleConnections
        self.childExecutable = childExecutable
    }

    public func run() async throws -> [String] {
        let build = BenchmarkFormat.build
        var lines = ["tls: one core, median of 3 interleaved rounds of \(secondsPerMeasurement) s per figure, \(build), \(OpenSSLLibrary.versionString)"]
        let directory = NSTemporaryDirectory() + "outpost-bench-tls-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for keySpec in [KeySpec.ecP256, .rsa2048] {
            let files = try BenchmarkPKI.make(in: directory + "/\(keySpec)", serverKey: keySpec)
            let server = try TLSContext(configuration: files.server)
            let client = try TLSContext(configuration: files.client)
            // Interleaved rounds, medians: both figures see the same machine conditions.
            var baselines: [Double] = []
            var handlers: [Double] = []
            for _ in 0..<3 {
                baselines.append(try measureHandshakes { try Self.handshakeInMemory(server: server, client: client) })
                handlers.append(try measureHandshakes { try Self.handshakeThroughHandlers(server: server, client: client) })
            }
            let baseline = baselines.sorted()[1]
            let handler = handlers.sorted()[1]
            let ratio = handler / baseline * 100
            lines.append("  server key \(keySpec):")
            lines.append("    baseline: OpenSSL handshakes back to back in memory   \(BenchmarkFormat.rate(baseline)) handshakes/s")
            lines.append("    through the NIO TLSHandler (EmbeddedChannel pair)    \(BenchmarkFormat.rate(handler)) handshakes/s  \(Int(ratio.rounded()))% of baseline, goal ≥ 90%: \(ratio >= 90 ? "met" : "NOT MET")")
        }
        let files = try BenchmarkPKI.make(in: directory + "/idle", serverKey: .ecP256)
        let perConnection = try await measureIdleMemory(files)
        let kibibytes = Double(perConnection) / 1024
        lines.append("  memory per established idle TLS connection (server process, \(idleConnections) connections, EC P-256, TLS 1.3):")
        lines.append("    resident memory: \(String(format: "%.1f", kibibytes)) KiB per connection, goal ≤ 40 KiB: \(kibibytes <= 40 ? "met" : "NOT MET")")
        lines.append("    reference: a well-known SIP proxy reports about 61 KB of OpenSSL memory per TLS connection")
        return lines
    }

    private func measureHandshakes(_ body: () throws -> Void) throws -> Double {
        let clock = ContinuousClock()
        for _ in 0..<20 { try body() }
        var count = 0
        let start = clock.now
        let deadline = start.advanced(by: .milliseconds(Int64(secondsPerMeasurement * 1000)))
        while clock.now < deadline {
            try body()
            count += 1
        }
        let elapsed = start.duration(to: clock.now)
        return Double(count) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }

    static func handshakeInMemory(server: TLSContext, client: TLSContext) throws {
        let allocator = ByteBufferAllocator()
        let serverSide = try TLSConnection(context: server, allocator: allocator)
        let clientSide = try TLSConnection(context: client, allocator: allocator)
        var serverDone = false
        var clientDone = clientSide.handshake() == .complete
        for _ in 0..<8 where !(serverDone && clientDone) {
            if let bytes = clientSide.takeCiphertext() {
                serverSide.receive(bytes)
                if !serverDone { serverDone = try check(serverSide.handshake()) }
            }
            if let bytes = serverSide.takeCiphertext() {
                clientSide.receive(bytes)
                if !clientDone { clientDone = try check(clientSide.handshake()) }
            }
        }
        guard serverDone, clientDone else { throw BenchmarkError(reason: "in-memory handshake did not complete") }
        // The server's TLS 1.3 session tickets follow the handshake; the handler path has the
        // client read them, so the baseline does too.
        if let tickets = serverSide.takeCiphertext() {
            clientSide.receive(tickets)
            _ = clientSide.readPlaintext(allocator: allocator)
        }
    }

    private static func check(_ progress: TLSConnection.Progress) throws -> Bool {
        switch progress {
        case .complete: return true
        case .incomplete: return false
        case .failed(let error): throw error
        }
    }

    static func handshakeThroughHandlers(server: TLSContext, client: TLSContext) throws {
        let serverChannel = EmbeddedChannel()
        let clientChannel = EmbeddedChannel()
        let serverDone = HandshakeFlag()
        let clientDone = HandshakeFlag()
        try serverChannel.pipeline.syncOperations.addHandlers([TLSHandler(context: server), serverDone])
        try clientChannel.pipeline.syncOperations.addHandlers([TLSHandler(context: client), clientDone])
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: 5061)
        try serverChannel.connect(to: address).wait()
        try clientChannel.connect(to: address).wait()
        for _ in 0..<8 where !(serverDone.completed && clientDone.completed) {
            while let bytes = try clientChannel.readOutbound(as: ByteBuffer.self) { try serverChannel.writeInbound(bytes) }
            while let bytes = try serverChannel.readOutbound(as: ByteBuffer.self) { try clientChannel.writeInbound(bytes) }
        }
        guard serverDone.completed, clientDone.completed else { throw BenchmarkError(reason: "handler handshake did not complete") }
        _ = try? serverChannel.finish()
        _ = try? clientChannel.finish()
    }

    /// Starts a TLS server here, has a child process open the idle connections, and compares
    /// this process's memory before and after.
    private func measureIdleMemory(_ files: BenchmarkPKI.Files) async throws -> Int {
        let context = try TLSContext(configuration: files.server)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let counter = ConnectionCounter()
        let listener = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 4096)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(TLSHandler(context: context))
                    try channel.pipeline.syncOperations.addHandler(counter)
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = listener.localAddress!.port!
        // Warm up allocator arenas and OpenSSL's lazily built tables before the first reading.
        try Self.handshakeInMemory(server: context, client: try TLSContext(configuration: files.client))
        _ = mallocTrim(0)
        let residentBefore = MemoryReading.resident()

        let child = Process()
        child.executableURL = URL(fileURLWithPath: childExecutable)
        child.arguments = ["tls-idle-clients", "--port", String(port), "--count", String(idleConnections),
                           "--certificate", files.clientCertificate, "--key", files.clientKey, "--ca", files.caCertificate]
        let ready = Pipe()
        child.standardOutput = ready
        try child.run()
        defer { if child.isRunning { child.terminate() } }
        let line = ready.fileHandleForReading.readLine()
        try await Task.sleep(for: .milliseconds(500))
        guard line == "ready", counter.established == idleConnections else {
            throw BenchmarkError(reason: "client process said '\(line ?? "")' with \(counter.established) connections established")
        }
        _ = mallocTrim(0)
        let resident = (MemoryReading.resident() - residentBefore) / idleConnections
        child.terminate()
        child.waitUntilExit()
        try await listener.close()
        try await group.shutdownGracefully()
        return resident
    }
}

struct BenchmarkError: Error, CustomStringConvertible {
    let reason: String
    var description: String { reason }
}

/// Records that the handshake of this channel completed.
final class HandshakeFlag: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    var completed = false

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is TLSHandshakeCompleted { completed = true }
        context.fireUserInboundEventTriggered(event)
    }
}

/// Counts server connections whose handshake completed (the handler is shared across channels).
final class ConnectionCounter: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    private let count = Mutex(0)
    var established: Int { count.withLock { $0 } }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is TLSHandshakeCompleted { count.withLock { $0 += 1 } }
        context.fireUserInboundEventTriggered(event)
    }
}

/// glibc's malloc_trim, which the Glibc module does not export: returns freed heap to the system
/// so resident-memory readings are not inflated by what the allocator keeps around.
@_silgen_name("malloc_trim")
func mallocTrim(_ pad: Int) -> Int32

enum MemoryReading {
    static func resident() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        return (fields.count > 1 ? Int(fields[1]) ?? 0 : 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}

extension FileHandle {
    func readLine() -> String? {
        var bytes: [UInt8] = []
        while true {
            let chunk = readData(ofLength: 1)
            guard let byte = chunk.first else { return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self) }
            if byte == 0x0A { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(byte)
        }
    }
}
