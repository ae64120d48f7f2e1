import Foundation
import NIOCore
import PKI
import TLS

#if canImport(Glibc)
import Glibc
#endif

/// The baseline of `outpost bench register`: the same load generator against Kamailio, a
/// well-known C registrar, on this machine — usrloc in memory, UDP and a mutual-TLS listener.
/// The bench runs outside the test tree, so the configuration is embedded here.
public struct KamailioBaseline: Sendable {
    public let users: Int
    public let requests: Int
    public let window: Int
    /// Kamailio's UDP receiver processes.
    public let children: Int
    /// Kamailio's TCP/TLS worker processes. One connection is served by one worker at a time, and
    /// more workers only pass it around between them: on one TLS connection, one is fastest.
    public let tcpChildren: Int

    public init(users: Int = 10_000, requests: Int = 50_000, window: Int = 200, children: Int = 2, tcpChildren: Int = 1) {
        self.users = users
        self.requests = requests
        self.window = window
        self.children = children
        self.tcpChildren = tcpChildren
    }

    /// Starts Kamailio, measures each transport after a warm-up, kills Kamailio. Results are in
    /// the order of `transports`.
    public func measure(_ transports: [RegisterLoadTransport] = RegisterLoadTransport.allCases) async throws -> [RegisterLoadResult] {
        let directory = NSTemporaryDirectory() + "outpost-bench-kamailio-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let files = try BenchmarkPKI.make(in: directory + "/pki", serverKey: .ecP256)
        try Self.configuration.write(toFile: directory + "/kamailio.cfg", atomically: true, encoding: .utf8)
        try Self.tlsConfiguration(files).write(toFile: directory + "/tls.cfg", atomically: true, encoding: .utf8)
        let udpPort = try FreePort.pick()
        let tlsPort = try FreePort.pick()
        let kamailio = try KamailioProcess(
            configurationFile: directory + "/kamailio.cfg",
            listeners: ["udp:127.0.0.1:\(udpPort)", "tls:127.0.0.1:\(tlsPort)"],
            defines: ["TLS_CONFIG=\"\(directory)/tls.cfg\"", "CHILDREN=\(children)", "TCP_CHILDREN=\(tcpChildren)"],
            workDirectory: directory + "/run")
        defer { kamailio.stop() }
        let udpTarget = try SocketAddress(ipAddress: "127.0.0.1", port: udpPort)
        let tlsTarget = try SocketAddress(ipAddress: "127.0.0.1", port: tlsPort)
        try await Self.waitUntilAnswering(udpTarget, kamailio)
        let client = try TLSContext(configuration: files.client)
        do {
            return try await measure(transports, udpTarget: udpTarget, tlsTarget: tlsTarget, client: client)
        } catch {
            throw BenchmarkError(reason: "\(error); kamailio's log ends: \(kamailio.log.suffix(1500))")
        }
    }

    private func measure(
        _ transports: [RegisterLoadTransport], udpTarget: SocketAddress, tlsTarget: SocketAddress, client: TLSContext
    ) async throws -> [RegisterLoadResult] {
        for transport in transports {
            _ = try await RegisterLoadGenerator.run(
                target: transport == .udp ? udpTarget : tlsTarget, transport: transport, tlsContext: client,
                users: users, requests: min(requests, 5_000), window: window)
        }
        // Interleaved rounds, medians: every transport sees the same machine conditions.
        var rounds: [RegisterLoadTransport: [RegisterLoadResult]] = [:]
        for _ in 0..<Self.rounds {
            for transport in transports {
                rounds[transport, default: []].append(try await RegisterLoadGenerator.run(
                    target: transport == .udp ? udpTarget : tlsTarget, transport: transport, tlsContext: client,
                    users: users, requests: requests, window: window))
            }
        }
        return transports.map { rounds[$0]!.sorted { $0.perSecond < $1.perSecond }[Self.rounds / 2] }
    }

    static let rounds = 3

    /// Kamailio answers REGISTER once all its processes are up; until then a request may vanish.
    private static func waitUntilAnswering(_ target: SocketAddress, _ kamailio: KamailioProcess) async throws {
        let deadline = ContinuousClock.now + .seconds(15)
        while ContinuousClock.now < deadline {
            guard kamailio.isRunning else { throw BenchmarkError(reason: "kamailio exited: \(kamailio.log.suffix(2000))") }
            let probe = try await RegisterLoadGenerator.run(
                target: target, transport: .udp, users: 1, requests: 1, window: 1, requestTimeout: .milliseconds(300))
            if probe.succeeded == 1 { return }
        }
        throw BenchmarkError(reason: "kamailio did not answer REGISTER within 15 s: \(kamailio.log.suffix(2000))")
    }

    static func tlsConfiguration(_ files: BenchmarkPKI.Files) -> String {
        """
        [server:default]
        method = TLSv1.2+
        verify_certificate = yes
        require_certificate = yes
        certificate = \(files.server.certificateChainPath ?? "")
        private_key = \(files.server.privateKeyPath ?? "")
        ca_list = \(files.caCertificate)

        """
    }

    /// A registrar and nothing else: usrloc in memory, every REGISTER saved, everything else
    /// refused. Listeners, TLS profile file and worker counts come from the command line.
    static let configuration = """
        #!KAMAILIO
        debug=1
        log_stderror=yes
        children=CHILDREN
        tcp_children=TCP_CHILDREN
        auto_aliases=no
        dns=no
        rev_dns=no
        use_dns_cache=off
        enable_tls=yes
        tcp_connection_lifetime=3605

        loadmodule "kex.so"
        loadmodule "ctl.so"
        loadmodule "sl.so"
        loadmodule "tm.so"
        loadmodule "maxfwd.so"
        loadmodule "textops.so"
        loadmodule "usrloc.so"
        loadmodule "registrar.so"
        loadmodule "tls.so"
        modparam("tls", "config", TLS_CONFIG)
        modparam("ctl", "binrpc", CTL_SOCKET)
        modparam("usrloc", "db_mode", 0)
        modparam("registrar", "max_expires", 3600)

        request_route {
            if (!mf_process_maxfwd_header("10")) {
                sl_send_reply("483", "Too Many Hops");
                exit;
            }
            if (is_method("REGISTER")) {
                if (!save("location")) {
                    sl_reply_error();
                }
                exit;
            }
            sl_send_reply("404", "Not Found");
        }

        """

    /// Lines to print next to the edge's own figures.
    public static func report(_ results: [RegisterLoadResult], baseline: KamailioBaseline) -> [String] {
        var lines = ["  baseline: Kamailio \(KamailioBaseline.version()) registrar, usrloc in memory, \(baseline.children) UDP and \(baseline.tcpChildren) TLS workers, "
            + "\(baseline.users) users, window \(baseline.window), median of \(rounds) rounds of \(baseline.requests) REGISTERs:"]
        for result in results {
            let label = result.transport == .udp ? "UDP" : "one TLS connection"
            lines.append("    \(BenchmarkFormat.padded(label, 20)) \(result)")
        }
        return lines
    }

    static func version() -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: KamailioProcess.executable)
        process.arguments = ["-v"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        guard (try? process.run()) != nil else { return "(unknown version)" }
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        // "version: kamailio 5.6.3 (x86_64/linux)"
        return text.split(separator: "\n").first { $0.hasPrefix("version:") }.map { $0.split(separator: " ").dropFirst(2).first.map(String.init) ?? "" } ?? ""
    }
}
