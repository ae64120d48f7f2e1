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
/// with p50/p99 latency; memory per binding; and, as baseline under the same generator and doing
/// the same authentication, Kamailio with usrloc in memory and with usrloc written through to
/// SQLite. Per transport, every registrar is up at once and the rounds interleave, so all see the
/// same machine conditions; each figure is the median of the rounds, and each run is time-limited.
public struct RegisterBenchmark: Sendable {
    public let users: Int
    public let requests: Int
    public let window: Int
    public let bindingsForMemory: Int
    public let transports: [RegisterLoadTransport]
    public let withBaseline: Bool
    /// No REGISTER is sent after this much of a run; the warm-up gets a third of it.
    public let runLimit: Duration
    public let rounds: Int

    public init(
        users: Int = 10_000, requests: Int = 100_000, window: Int = 200, bindingsForMemory: Int = 100_000,
        transports: [RegisterLoadTransport] = [.tls, .udp], withBaseline: Bool = true, runLimit: Duration = .seconds(8), rounds: Int = 3
    ) {
        self.transports = transports
        self.withBaseline = withBaseline
        self.users = users
        self.requests = requests
        self.window = window
        self.bindingsForMemory = bindingsForMemory
        self.runLimit = runLimit
        self.rounds = max(1, rounds)
    }

    /// One registrar under test at one address.
    private struct Contender {
        let label: String
        let target: SocketAddress
        var results: [RegisterLoadResult] = []
        var error: String?
    }

    public func run() async throws -> [String] {
        #if DEBUG
        let build = "DEBUG build: figures are not meaningful, use `swift build -c release`"
        #else
        let build = "release build"
        #endif
        let seconds = String(format: "%.0f", runLimit / .seconds(1))
        var lines = [
            "register: \(users) users, window \(window), up to \(requests) REGISTERs per run, runs stopped sending after \(seconds) s, "
                + "median of \(rounds) interleaved rounds after a warm-up; generator on one thread beside the registrar; \(build)"
        ]
        let directory = NSTemporaryDirectory() + "outpost-bench-register-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let files = try BenchmarkPKI.make(in: directory + "/pki", serverKey: .ecP256)
        let client = try TLSContext(configuration: files.client)

        let baseline = KamailioBaseline()
        var kamailios: [KamailioBaseline.Instance] = []
        defer { kamailios.forEach { $0.stop() } }
        if withBaseline {
            for storage in KamailioBaseline.Storage.allCases {
                do {
                    kamailios.append(try await baseline.start(storage, files: files, directory: directory + "/kamailio-\(storage.rawValue)"))
                } catch {
                    lines.append("  baseline: Kamailio, \(storage.label), could not be started: \(error)")
                }
            }
        }
        let version = KamailioBaseline.version()
        for transport in transports {
            let edge = try await startEdge(transport, files: files, directory: directory + "/edge-\(transport)")
            defer { edge.task.cancel() }
            var contenders = [Contender(label: "the edge", target: edge.target)]
            for kamailio in kamailios {
                contenders.append(Contender(label: "Kamailio \(version), \(kamailio.storage.label)", target: kamailio.target(transport)))
            }
            let password: String? = transport == .udp ? KamailioBaseline.digestPassword : nil
            for phase in 0...rounds {
                for index in contenders.indices where contenders[index].error == nil {
                    do {
                        let result = try await RegisterLoadGenerator.run(
                            target: contenders[index].target, transport: transport, tlsContext: client, users: users,
                            requests: phase == 0 ? min(requests, 5_000) : requests, window: window, digestPassword: password,
                            timeLimit: phase == 0 ? runLimit / 3 : runLimit)
                        if phase > 0 { contenders[index].results.append(result) }
                    } catch {
                        contenders[index].error = "\(error)"
                    }
                }
            }
            edge.task.cancel()
            _ = await edge.task.result
            lines += report(transport, contenders)
        }
        if withBaseline, !kamailios.isEmpty {
            lines += baselineNotes(kamailios, scratch: directory + "/synchronous-probe.sqlite")
        }
        let perBinding = try measureMemoryPerBinding()
        lines.append(
            "  memory per binding (registrar table, \(bindingsForMemory) bindings, resident): \(String(format: "%.0f", perBinding)) bytes, "
                + "goal ≤ 2 KiB: \(perBinding <= 2048 ? "met" : "NOT MET")")
        return lines
    }

    private func report(_ transport: RegisterLoadTransport, _ contenders: [Contender]) -> [String] {
        var lines = [transport == .udp
            ? "  UDP, digest MD5 qop=auth on every REGISTER (credentials sent up front after the first challenge, nc growing):"
            : "  one TLS connection, client certificate verified, bindings only for its device, no digest:"]
        let (medianLines, medians) = BenchmarkFormat.medianLines(contenders.map { ($0.label, $0.results, $0.error) }, ratio: "edge/Kamailio")
        lines += medianLines
        if transport == .tls, let edge = medians[0] {
            lines.append("    goal ≥ 25,000 REGISTER/s over one TLS connection: \(edge.perSecond >= 25_000 ? "met" : "NOT MET")")
        }
        return lines
    }

    private func baselineNotes(_ kamailios: [KamailioBaseline.Instance], scratch: String) -> [String] {
        var lines = [
            "  the edge: SQLite journal (WAL, synchronous=FULL, group commit), binding durable before its 200.",
            "  Kamailio: auth module (qop=auth, nonce_count on), save() stateless; write-through SQLite with Kamailio's own schema: db_sqlite "
                + "sets journal_mode=WAL (db_set_journal_mode) and has no synchronous (nor busy timeout) parameter, so SQLite's default "
                + "holds: synchronous=\(KamailioBaseline.defaultWALSynchronous(scratch: scratch)) in WAL (same libsqlite3); "
                + "one transaction per REGISTER, no group commit.",
        ]
        for kamailio in kamailios {
            let errors = kamailio.errorLines
            var line = "  Kamailio, \(kamailio.storage.label), \(kamailio.children) UDP and \(KamailioBaseline().tcpChildren) TLS workers: "
                + "\(errors.count) errors logged during the runs"
            // A run's contacts carry the generator's socket, so each run adds a contact per user.
            if let rows = kamailio.storedBindings() { line += ", \(rows) contacts in its location table" }
            if let first = errors.first { line += "; first: \(first.suffix(200))" }
            lines.append(line)
        }
        return lines
    }

    /// One in-process edge per transport, so each has an inventory that transport can use: the
    /// bench certificate's device owning every line (TLS), or one digest user per line (UDP).
    private func startEdge(
        _ transport: RegisterLoadTransport, files: BenchmarkPKI.Files, directory: String
    ) async throws -> (target: SocketAddress, task: Task<Void, any Error>) {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let port = try FreePort.pick()
        var configuration = OutpostConfiguration(stateDirectory: directory, logLevel: .error)
        configuration.admin.enabled = false
        configuration.tftp.enabled = false
        configuration.registrar.ratePerSource = 10_000_000
        configuration.registrar.digestAlgorithms = [.md5]
        let lines = (0..<users).map { DeviceLine(number: "bench\($0)") }
        switch transport {
        case .tls:
            configuration.sip.listeners = [.init(transport: .tls, address: "127.0.0.1", port: port)]
            configuration.sip.tls = .init(
                certificate: files.server.certificateChainPath, key: files.server.privateKeyPath, trustRoots: files.caCertificate)
            configuration.devices = [Device(name: KamailioBaseline.deviceName, lines: lines, security: .encrypted)]
        case .udp:
            configuration.sip.listeners = [.init(transport: .udp, address: "127.0.0.1", port: port)]
            configuration.devices = lines.map {
                Device(name: $0.number, lines: [$0], security: .nonSecure, digest: DigestAccount(username: $0.number, password: KamailioBaseline.digestPassword))
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
        for await _ in ready.stream { break }
        return (try SocketAddress(ipAddress: "127.0.0.1", port: port), edge)
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
