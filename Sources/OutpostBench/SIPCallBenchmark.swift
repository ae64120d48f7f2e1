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

/// `outpost bench calls`: calls per second set up and torn down through the edge with their
/// media anchored on its relay, and the most concurrent SRTP calls it carries at 50 packets/s
/// each way with no packet lost; both next to Kamailio with its rtpengine module driving Debian's
/// rtpengine (userspace) in the same run, under the same generator.
///
/// Rate: `window` UDP caller phones and as many callees, registered with digest; each caller calls
/// its callee (INVITE with an SDP offer, 100, 180, 200 with the answer, ACK, BYE, 200) and calls
/// again as soon as both ends have taken the BYE, for `runLimit`; rounds interleave and the median
/// is printed. Concurrent calls: N calls held with SDES SRTP on both legs (the edge's phones on
/// TLS, as its policy requires for SRTP; Kamailio's on UDP), a 20 ms SRTP stream each way per
/// call for a warm-up and a measurement window; N doubles from the first step until a packet of
/// the window is lost or the cap is reached.
public struct CallBenchmark: Sendable {
    public let window: Int
    public let runLimit: Duration
    public let rounds: Int
    /// The held-call counts tried, in order; the run stops at the first with a loss.
    public let steps: [Int]
    public let mediaWindow: Duration
    public let mediaWarmUp: Duration
    public let withBaseline: Bool
    public let rate: Bool
    public let concurrent: Bool

    public init(
        window: Int = 50, runLimit: Duration = .seconds(5), rounds: Int = 3, steps: [Int] = [100, 200, 400, 800, 1_600],
        mediaWindow: Duration = .seconds(3), mediaWarmUp: Duration = .seconds(1), withBaseline: Bool = true, rate: Bool = true,
        concurrent: Bool = true
    ) {
        self.window = max(1, window)
        self.runLimit = runLimit
        self.rounds = max(1, rounds)
        self.steps = steps.filter { $0 > 0 }
        self.mediaWindow = mediaWindow
        self.mediaWarmUp = mediaWarmUp
        self.withBaseline = withBaseline
        self.rate = rate
        self.concurrent = concurrent
    }

    /// The edge's relay ports and rtpengine's, apart from each other and from the ephemeral range
    /// the generator's sockets come from; four ports a call (RTP and RTCP on each leg).
    static let edgeMediaPorts = 10_000...19_999
    static let rtpenginePorts = 20_000...29_999
    /// The edge carries at most 2,000 calls (CallSettings.maximumCalls).
    public static let maximumHeldCalls = 2_000

    /// What one contender measured, for the report.
    struct Contender {
        let label: String
        var results: [CallLoadResult] = []
        var error: String?
        var steps: [(calls: Int, totals: CallMediaLoad.Totals, hungUp: Int)] = []
        var stepError: String?
    }

    public func run() async throws -> [String] {
        let seconds = String(format: "%.0f", runLimit / .seconds(1))
        var lines = [
            "calls: through the edge (B2BUA, media on its relay, call records in SQLite) and through Kamailio \(KamailioBaseline.version()) "
                + "(proxy, record-route, usrloc in memory) with rtpengine \(Self.rtpengineVersion()) (userspace, --table=-1); "
                + "generator on one thread beside them; \(BenchmarkFormat.build)"
        ]
        guard steps.allSatisfy({ $0 <= Self.maximumHeldCalls }) else {
            throw BenchmarkError(reason: "the edge carries at most \(Self.maximumHeldCalls) calls; steps must not exceed it")
        }
        let heldPairs = concurrent ? steps.max() ?? 0 : 0
        try MediaBenchmark.raiseDescriptorLimit(to: 8 * max(heldPairs, window) + 4_096)
        let directory = NSTemporaryDirectory() + "outpost-bench-calls-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let files = try BenchmarkPKI.make(in: directory + "/pki", serverKey: .ecP256)

        var baseline: KamailioCallBaseline.Instance?
        defer { baseline?.stop() }
        if withBaseline {
            do {
                baseline = try await KamailioCallBaseline().start(directory: directory + "/kamailio", mediaPorts: Self.rtpenginePorts)
            } catch {
                lines.append("  baseline: Kamailio with rtpengine could not be started: \(error)")
            }
        }
        let baselineLabel = "Kamailio + rtpengine"

        if rate {
            let edge = try await BenchEdge.start(
                .udp, lines: (0..<window).flatMap { [CallLoadGenerator.callerNumber($0), CallLoadGenerator.calleeNumber($0)] }, files: files,
                directory: directory + "/edge-udp")
            var contenders = [Contender(label: "the edge")]
            var generators: [CallLoadGenerator?] = []
            var targets = [edge.target]
            if let baseline {
                contenders.append(Contender(label: baselineLabel))
                targets.append(baseline.target)
            }
            for (index, target) in targets.enumerated() {
                do {
                    let generator = try await CallLoadGenerator(
                        target: target, transport: .udp, pairs: window, digestPassword: KamailioBaseline.digestPassword)
                    try await generator.registerAll()
                    generators.append(generator)
                } catch {
                    contenders[index].error = "\(error)"
                    generators.append(nil)
                }
            }
            for phase in 0...rounds {
                for index in contenders.indices where contenders[index].error == nil {
                    guard let generator = generators[index] else { continue }
                    do {
                        let result = try await generator.run(for: phase == 0 ? runLimit / 3 : runLimit)
                        if phase > 0 { contenders[index].results.append(result) }
                    } catch {
                        contenders[index].error = "\(error)"
                    }
                }
            }
            for generator in generators { await generator?.close() }
            await edge.stop()
            lines.append(
                "  call setup + teardown: \(window) UDP caller phones and \(window) callees registered with digest, one call each at a time "
                    + "(INVITE with SDP → 100, 180, 200 with SDP → ACK → BYE → 200, hung up as soon as up), plain RTP offers anchored on "
                    + "the relay; median of \(rounds) interleaved \(seconds) s runs after a warm-up:")
            lines += reportRate(contenders)
        }

        if concurrent, !steps.isEmpty {
            let edge = try await BenchEdge.start(
                .tls, lines: (0..<heldPairs).flatMap { [CallLoadGenerator.callerNumber($0), CallLoadGenerator.calleeNumber($0)] }, files: files,
                directory: directory + "/edge-tls")
            var contenders = [Contender(label: "the edge")]
            contenders[0] = await measureConcurrent(
                contenders[0], target: edge.target, transport: .tls, tls: try TLSContext(configuration: files.client), pairs: heldPairs)
            await edge.stop()
            if let baseline {
                contenders.append(
                    await measureConcurrent(Contender(label: baselineLabel), target: baseline.target, transport: .udp, tls: nil, pairs: heldPairs))
            }
            lines.append(
                "  concurrent SRTP calls at 50 packets/s each way with zero loss: SDES on both legs with a different key each side (every packet "
                    + "decrypted and re-encrypted; AES_CM_128_HMAC_SHA1_80 both legs at the edge, the callee leg in _32 at rtpengine, which "
                    + "passes SRTP through when both legs share a suite), 172-byte RTP every 20 ms per direction, "
                    + "\(MediaBenchmark.format(mediaWarmUp / .seconds(1))) s warm-up then a \(MediaBenchmark.format(mediaWindow / .seconds(1))) s "
                    + "window, steps \(steps.map(String.init).joined(separator: ", ")) until a loss; the edge's phones on one TLS connection "
                    + "(its policy: SRTP needs TLS), Kamailio's on UDP:")
            lines += reportConcurrent(contenders)
        }
        if let baseline {
            let errors = baseline.errorLines
            lines.append(
                "  Kamailio (\(KamailioCallBaseline().children) UDP workers): \(errors.count) errors logged during the runs"
                    + (errors.first.map { "; first: \($0.suffix(200))" } ?? ""))
        }
        return lines
    }

    private func measureConcurrent(
        _ contender: Contender, target: SocketAddress, transport: CallLoadTransport, tls: TLSContext?, pairs: Int
    ) async -> Contender {
        var contender = contender
        var opened: CallLoadGenerator?
        do {
            let generator = try await CallLoadGenerator(
                target: target, transport: transport, pairs: pairs, tlsContext: tls,
                digestPassword: transport == .udp ? KamailioBaseline.digestPassword : nil, callTimeout: .seconds(15))
            opened = generator
            try await generator.registerAll(timeout: .seconds(60))
            let media = try CallMediaLoad()
            for calls in steps {
                let established = try await generator.hold(try media.plans(calls), window: 50)
                try media.prepare(established)
                let totals = await media.run(warmUp: mediaWarmUp, window: mediaWindow)
                let hungUp = try await generator.hangUpHeld(timeout: .seconds(20))
                contender.steps.append((calls, totals, hungUp.completed))
                if !totals.whole || !totals.paced { break }
            }
        } catch {
            contender.stepError = "\(error)"
        }
        await opened?.close()
        return contender
    }

    private func reportRate(_ contenders: [Contender]) -> [String] {
        var (lines, medians) = BenchmarkFormat.medianLines(contenders.map { ($0.label, $0.results, $0.error) }, ratio: "edge/baseline")
        if medians.count > 1, let edge = medians[0], let base = medians[1] {
            lines.append("    goal: ahead of Kamailio + rtpengine: \(edge.perSecond > base.perSecond ? "met" : "NOT MET")")
        }
        return lines
    }

    private func reportConcurrent(_ contenders: [Contender]) -> [String] {
        var lines: [String] = []
        let width = contenders.map(\.label.count).max() ?? 0
        var best: [Int] = []
        for contender in contenders {
            let label = BenchmarkFormat.padded(contender.label, width)
            let whole = contender.steps.filter { $0.totals.whole && $0.totals.paced }.map(\.calls).max() ?? 0
            best.append(whole)
            var line = "    \(label)  \(whole > 0 ? "\(BenchmarkFormat.rate(Double(whole))) concurrent calls with zero loss" : "no step without loss")"
            if let last = contender.steps.last, last.totals.whole, !last.totals.paced {
                line += String(
                    format: "; at %d the generator sent only %.1f packets/s per stream without loss: its limit, not the relay's", last.calls,
                    last.totals.packetsPerStreamSecond)
            } else if let last = contender.steps.last, !last.totals.whole {
                let t = last.totals
                line += "; at \(last.calls): \(t.lost) of \(t.sent) packets lost in \(t.lossyStreams) of \(t.streams) streams"
                    + (t.rejected > 0 ? ", \(t.rejected) rejected (authentication or replay)" : "")
            } else if contender.stepError == nil, whole == steps.max() {
                line += " (the largest step; the cap, not a limit found)"
            }
            if let error = contender.stepError { line += "  [stopped: \(error)]" }
            lines.append(line)
            let detail = contender.steps.map { step in
                "\(step.calls): \(step.totals.received)/\(step.totals.sent)\(step.hungUp == step.calls ? "" : ", \(step.hungUp) of \(step.calls) hung up cleanly")"
            }
            if !detail.isEmpty { lines.append("      \(BenchmarkFormat.padded("", width - 4))packets received/sent per step: \(detail.joined(separator: "; "))") }
        }
        if best.count > 1 {
            lines.append("    goal: ahead of Kamailio + rtpengine: \(best[0] > best[1] ? "met" : best[0] == best[1] ? "NOT MET (level; raise the cap with --steps)" : "NOT MET")")
        }
        return lines
    }

    static func rtpengineVersion() -> String {
        // "Version: 10.5.3.5-1+deb12u1"
        KamailioBaseline.versionLine(RtpengineDaemon.executable, "--version", prefix: "Version:")?.dropFirst(8)
            .trimmingCharacters(in: .whitespaces) ?? "(unknown version)"
    }
}

/// An edge in this process for the calls bench: UDP phones, one non-secure device per line with
/// its digest account, or one encrypted device (the bench certificate's) owning every line on
/// TLS. The relay listens on loopback without quarantine, as rtpengine runs with
/// `--delete-delay=0`: a call's ports are free again once it ends.
struct BenchEdge {
    let target: SocketAddress
    let task: Task<Void, any Error>

    static func start(_ transport: CallLoadTransport, lines: [String], files: BenchmarkPKI.Files, directory: String) async throws -> BenchEdge {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let port = try FreePort.pick()
        var configuration = OutpostConfiguration(stateDirectory: directory, logLevel: .error)
        configuration.admin.enabled = false
        configuration.tftp.enabled = false
        configuration.registrar.ratePerSource = 10_000_000
        configuration.registrar.digestAlgorithms = [.md5]
        configuration.media.address = "127.0.0.1"
        configuration.media.portMin = CallBenchmark.edgeMediaPorts.lowerBound
        configuration.media.portMax = CallBenchmark.edgeMediaPorts.upperBound
        configuration.media.quarantineSeconds = 0
        let deviceLines = lines.map { DeviceLine(number: $0) }
        switch transport {
        case .udp:
            configuration.sip.listeners = [.init(transport: .udp, address: "127.0.0.1", port: port)]
            configuration.devices = deviceLines.map {
                Device(
                    name: "bench\($0.number)", lines: [$0], security: .nonSecure,
                    digest: DigestAccount(username: $0.number, password: KamailioBaseline.digestPassword))
            }
        case .tls:
            configuration.sip.listeners = [.init(transport: .tls, address: "127.0.0.1", port: port)]
            configuration.sip.tls = .init(
                certificate: files.server.certificateChainPath, key: files.server.privateKeyPath, trustRoots: files.caCertificate)
            configuration.devices = [Device(name: KamailioBaseline.deviceName, lines: deviceLines, security: .encrypted)]
        }
        let runtime = OutpostRuntime(configuration: configuration)
        let ready = AsyncStream<Void>.makeStream()
        var logger = Logger(label: "bench-edge")
        logger.logLevel = .error
        let task = Task { [logger] in
            defer { ready.continuation.finish() }
            try await runtime.run(logger: logger) { _ in ready.continuation.yield() }
        }
        for await _ in ready.stream { break }
        return BenchEdge(target: try SocketAddress(ipAddress: "127.0.0.1", port: port), task: task)
    }

    func stop() async {
        task.cancel()
        _ = await task.result
    }
}
