import Edge
import Foundation
import Logging
import NIOCore
import PKI
import Runtime
import SIP
import SIPTransport
import TLS

#if canImport(Glibc)
import Glibc
#endif

/// `outpost bench register`: REGISTERs per second answered by the edge's registrar (each
/// binding in SQLite before its 200) over one mutual-TLS connection and over UDP with digest,
/// with p50/p99 latency; memory per binding; and Kamailio under the same generator as baseline.
public struct RegisterBenchmark: Sendable {
    public let users: Int
    public let requests: Int
    public let window: Int
    public let bindingsForMemory: Int
    public let transports: [RegisterLoadTransport]
    public let withBaseline: Bool

    public init(
        users: Int = 10_000, requests: Int = 100_000, window: Int = 200, bindingsForMemory: Int = 100_000,
        transports: [RegisterLoadTransport] = [.tls, .udp], withBaseline: Bool = true
    ) {
        self.transports = transports
        self.withBaseline = withBaseline
        self.users = users
        self.requests = requests
        self.window = window
        self.bindingsForMemory = bindingsForMemory
    }

    public func run() async throws -> [String] {
        #if DEBUG
        let build = "DEBUG build: figures are not meaningful, use `swift build -c release`"
        #else
        let build = "release build"
        #endif
        var lines = [
            "register: \(users) users, window \(window), \(requests) REGISTERs per transport after a warm-up, generator on one thread beside the edge, \(build)"
        ]
        let directory = NSTemporaryDirectory() + "outpost-bench-register-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let files = try BenchmarkPKI.make(in: directory + "/pki", serverKey: .ecP256)
        let client = try TLSContext(configuration: files.client)

        lines.append("  the edge: registrar with SQLite journal (WAL, synchronous=FULL, group commit), binding durable before 200:")
        for transport in transports {
            let result = try await measureEdge(transport, files: files, client: client, directory: directory + "/\(transport)")
            let label = transport == .udp ? "UDP with digest (MD5)" : "one TLS connection"
            lines.append("    \(BenchmarkFormat.padded(label, 22)) \(result)")
            if transport == .tls {
                let goal = result.perSecond >= 25_000
                lines.append("    goal ≥ 25,000 REGISTER/s over one TLS connection: \(goal ? "met" : "NOT MET")")
            }
        }
        let baseline = KamailioBaseline(users: users, requests: requests, window: window)
        do {
            if withBaseline {
                lines += KamailioBaseline.report(try await baseline.measure(transports), baseline: baseline)
                lines.append("    (Kamailio's UDP run has no digest and keeps bindings in memory only)")
            }
        } catch {
            lines.append("  baseline: Kamailio could not be measured: \(error)")
        }
        let perBinding = try measureMemoryPerBinding()
        lines.append(
            "  memory per binding (registrar table, \(bindingsForMemory) bindings, resident): \(String(format: "%.0f", perBinding)) bytes, "
                + "goal ≤ 2 KiB: \(perBinding <= 2048 ? "met" : "NOT MET")")
        return lines
    }

    /// One in-process edge per transport, so each has an inventory that transport can use: the
    /// bench certificate's device owning every line (TLS), or one digest user per line (UDP).
    private func measureEdge(
        _ transport: RegisterLoadTransport, files: BenchmarkPKI.Files, client: TLSContext, directory: String
    ) async throws -> RegisterLoadResult {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let port = try FreePort.pick()
        var configuration = OutpostConfiguration(stateDirectory: directory, logLevel: .error)
        configuration.tftp.enabled = false
        configuration.registrar.ratePerSource = 10_000_000
        configuration.registrar.digestAlgorithms = [.md5]
        let lines = (0..<users).map { DeviceLine(number: "bench\($0)") }
        switch transport {
        case .tls:
            configuration.sip.listeners = [.init(transport: .tls, address: "127.0.0.1", port: port)]
            configuration.sip.tls = .init(
                certificate: files.server.certificateChainPath, key: files.server.privateKeyPath, trustRoots: files.caCertificate)
            configuration.devices = [Device(name: "SEP001122334455", lines: lines, security: .encrypted)]
        case .udp:
            configuration.sip.listeners = [.init(transport: .udp, address: "127.0.0.1", port: port)]
            configuration.devices = lines.map {
                Device(name: $0.number, lines: [$0], security: .nonSecure, digest: DigestAccount(username: $0.number, password: "bench"))
            }
        }
        let runtime = OutpostRuntime(configuration: configuration)
        let ready = AsyncStream<Void>.makeStream()
        var logger = Logger(label: "bench-edge")
        logger.logLevel = .error
        let edge = Task { [logger] in
            defer { ready.continuation.finish() }
            try await runtime.run(logger: logger) { _ in ready.continuation.yield() }
        }
        defer { edge.cancel() }
        for await _ in ready.stream { break }
        let target = try SocketAddress(ipAddress: "127.0.0.1", port: port)
        let password: String? = transport == .udp ? "bench" : nil
        _ = try await RegisterLoadGenerator.run(
            target: target, transport: transport, tlsContext: client, users: users, requests: min(requests, 5_000), window: window,
            digestPassword: password)
        let result = try await RegisterLoadGenerator.run(
            target: target, transport: transport, tlsContext: client, users: users, requests: requests, window: window,
            digestPassword: password)
        edge.cancel()
        _ = await edge.result
        return result
    }

    /// Resident memory before and after filling a registrar (with a journal that keeps nothing)
    /// with bindings shaped like a phone's, divided by their number.
    private func measureMemoryPerBinding() throws -> Double {
        let lines = (0..<bindingsForMemory).map { DeviceLine(number: "2\($0)") }
        let inventory = try DeviceInventory([Device(name: "SEP001122334455", lines: lines, security: .encrypted)])
        let before = Self.residentBytes()
        let now = Int64(Date().timeIntervalSince1970)
        let bindings = (0..<bindingsForMemory).map { index in
            Binding(
                addressOfRecord: "2\(index)", contact: "sip:2\(index)@10.20.\(index % 250).\(index % 200):5061;transport=tls", device: "SEP001122334455",
                expiresAt: now + 3600, qValue: nil, instanceID: "\"<urn:uuid:00000000-0000-1000-8000-00\(String(format: "%010X", index))>\"",
                regID: 1, callID: "c0a80101-13c4-\(index)@10.20.30.40", cseq: 101, flow: BindingFlow(transport: .tls, remoteAddress: "10.20.30.40", remotePort: 50_000, connection: UInt64(index)),
                userAgent: "Cisco-CP8845/14.2.1", registeredAt: now, acceptedUpstream: true)
        }
        let registrar = Registrar(
            settings: RegistrarSettings(), hashing: OpenSSLDigests.hashing(fipsMode: false), ratePerSource: 1, inventory: inventory, policy: RequestPolicy(capabilities: EdgeCapabilities()),
            journal: DiscardingJournal(), restored: bindings, logger: Logger(label: "bench"), wallClock: { now })
        let after = Self.residentBytes()
        precondition(registrar.bindings().count == bindingsForMemory)
        // The input array is still alive and counted too (its strings are shared with the
        // table), so the figure errs high.
        withExtendedLifetime(bindings) {}
        return Double(after - before) / Double(bindingsForMemory)
    }

    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let pages = text.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}

/// The memory figure measures the table, not storage.
private struct DiscardingJournal: BindingJournal {
    func write(addressOfRecord: String, bindings: [Binding], completion: @escaping @Sendable (Result<Void, any Error>) -> Void) {
        completion(.success(()))
    }

    func loadBindings() throws -> [Binding] { [] }
}
