import Foundation
import Logging
import Media
import NIOCore
import NIOPosix
import PKI
import Runtime
import SDP
import SRTP

#if canImport(Glibc)
import Glibc
#endif

/// `outpost bench media`: packets the relay forwards per CPU second of its one event-loop thread
/// (pinned to CPU 0) while a C load generator pinned to CPU 1 saturates it, for SRTP re-encrypted
/// with another key (AES_CM_128_HMAC_SHA1_80, AEAD_AES_128_GCM), RTP in and SRTP out, and plain
/// RTP; each next to the independent C baselines of the same run: libsrtp alone doing the same
/// crypto on the same packets, and a bare UDP forwarding loop on as many sockets. Then the
/// resident memory per two-leg SRTP call with 1,000 calls.
public struct MediaBenchmark {
    public let secondsPerMeasurement: Double
    public let calls: Int
    public let memoryCalls: Int
    public let rounds: Int
    /// `media-baseline` (Tests/Tools/media-baseline).
    public let baselineExecutable: String

    public init(secondsPerMeasurement: Double = 3, calls: Int = 100, memoryCalls: Int = 1_000, rounds: Int = 3, baselineExecutable: String) {
        self.secondsPerMeasurement = secondsPerMeasurement
        self.calls = calls
        self.memoryCalls = memoryCalls
        self.rounds = max(1, rounds)
        self.baselineExecutable = baselineExecutable
    }

    static let relayCPU = 0
    static let generatorCPU = 1
    /// Packets the generator keeps in flight: enough to keep every socket busy, few enough that
    /// the relay's default socket buffers never overflow.
    static let window = 256
    static let warmUp = Duration.milliseconds(500)
    static let ports = 20_000...29_999
    static let pcmu = [RTPMap(payloadType: 0, encoding: "PCMU", clockRate: 8_000)]

    /// One kind of call: what leg 0's peer sends and what leg 1's peer receives.
    struct Scenario {
        let label: String
        let inbound: SRTPSuite?
        let outbound: SRTPSuite?
        /// The libsrtp work per packet, as `media-baseline srtp-loop` names it; nil for none.
        let libsrtp: (suite: String, operation: String, label: String)?
    }

    static let scenarios = [
        Scenario(
            label: "AES_CM_128_HMAC_SHA1_80 in → AES_CM_128_HMAC_SHA1_80 out with a different key", inbound: .aesCM128HMACSHA1_80,
            outbound: .aesCM128HMACSHA1_80, libsrtp: ("aes-cm-80", "reencrypt", "libsrtp unprotect + protect loop")),
        Scenario(
            label: "AEAD_AES_128_GCM in → AEAD_AES_128_GCM out with a different key", inbound: .aeadAES128GCM, outbound: .aeadAES128GCM,
            libsrtp: ("aes-gcm-128", "reencrypt", "libsrtp unprotect + protect loop")),
        Scenario(
            label: "RTP in → SRTP AES_CM_128_HMAC_SHA1_80 out", inbound: nil, outbound: .aesCM128HMACSHA1_80,
            libsrtp: ("aes-cm-80", "protect", "libsrtp protect loop")),
        Scenario(label: "plain RTP in → plain RTP out", inbound: nil, outbound: nil, libsrtp: nil),
    ]

    /// One relay run's figures.
    struct RelayRun {
        var perCPUSecond: Double
        var perWallSecond: Double
        var utilization: Double
        var totals: MediaLoadGenerator.Totals
        var inboundProblems: UInt64
        var outboundFailures: UInt64
    }

    public func run() async throws -> [String] {
        var lines = [
            "media: \(calls) two-leg calls, 172-byte RTP packets (12 + 160 PCMU) from a C load generator pinned to CPU \(Self.generatorCPU); "
                + "the relay on one event loop pinned to CPU \(Self.relayCPU); figures are packets relayed ÷ CPU seconds of that thread, "
                + "median of \(rounds) interleaved rounds of \(Self.format(secondsPerMeasurement)) s; \(BenchmarkFormat.build), "
                + "\(SRTPLibrary.versionString), the relay's libsrtp running \(SRTPLibrary.primitives)"
        ]
        try Self.raiseDescriptorLimit(to: 4 * memoryCalls + 4 * calls + 256)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let cpuClock = try await loop.submit { () throws -> clockid_t in
            try Self.pinCurrentThread(to: Self.relayCPU)
            var clock = clockid_t()
            guard pthread_getcpuclockid(pthread_self(), &clock) == 0 else { throw BenchmarkError(reason: "pthread_getcpuclockid failed") }
            return clock
        }.get()
        var logger = Logger(label: "bench-media")
        logger.logLevel = .error
        let relay = RTPRelay(
            settings: MediaRelaySettings(bindHost: "127.0.0.1", ports: Self.ports, quarantine: .zero),
            loops: [loop], sockets: DatagramMediaSockets(), keySource: { try SecureRandom.bytes($0) }, logger: logger, events: { _ in })

        var relayRuns = [[RelayRun]](repeating: [], count: Self.scenarios.count)
        var libsrtpRuns: [String: [Double]] = [:]
        var forwardRuns: [String: [Double]] = [:]
        for _ in 0..<rounds {
            for mode in ["mmsg", "single"] {
                forwardRuns[mode, default: []].append(try measureForwardingLoop(mode: mode))
            }
            for (index, scenario) in Self.scenarios.enumerated() {
                if let libsrtp = scenario.libsrtp {
                    for primitives in ["built-in", "openssl"] {
                        let key = libsrtp.suite + " " + libsrtp.operation + " " + primitives
                        libsrtpRuns[key, default: []].append(
                            try measureLibSRTP(suite: libsrtp.suite, operation: libsrtp.operation, primitives: primitives))
                    }
                }
                relayRuns[index].append(try await measureRelay(scenario, relay: relay, cpuClock: cpuClock))
            }
        }

        let mmsg = Self.median(forwardRuns["mmsg"]!)
        let single = Self.median(forwardRuns["single"]!)
        let forwarding = max(mmsg, single)
        let forwardingLabel = mmsg >= single ? "recvmmsg/sendmmsg, batches of 32" : "recvfrom/sendto"
        lines.append(
            "  baseline: bare C UDP forwarding loop, epoll over \(calls) socket pairs, one thread on CPU \(Self.relayCPU): "
                + "recvmmsg/sendmmsg (32) \(BenchmarkFormat.rate(mmsg)) packets/s per core, recvfrom/sendto \(BenchmarkFormat.rate(single)) "
                + "packets/s per core; the faster (\(forwardingLabel)) is the baseline below")
        for (index, scenario) in Self.scenarios.enumerated() {
            let runs = relayRuns[index]
            let median = runs.sorted { $0.perCPUSecond < $1.perCPUSecond }[runs.count / 2]
            lines.append("  \(scenario.label):")
            var libsrtp: Double?
            if let work = scenario.libsrtp {
                let builtIn = Self.median(libsrtpRuns[work.suite + " " + work.operation + " built-in"]!)
                let openSSL = Self.median(libsrtpRuns[work.suite + " " + work.operation + " openssl"]!)
                // The relay runs libsrtp with the OpenSSL primitives, so that loop is its baseline.
                libsrtp = openSSL
                lines.append(
                    "    baseline: \(work.label) (C, same 172-byte packets, CPU \(Self.relayCPU)), libsrtp's built-in primitives (NSS on Debian)  "
                        + "\(BenchmarkFormat.rate(builtIn)) packets/s per core")
                lines.append(
                    "    baseline: the same loop with the OpenSSL primitives the edge installs  \(BenchmarkFormat.rate(openSSL)) packets/s per core")
            }
            lines.append("    baseline: bare UDP forwarding loop (\(forwardingLabel))  \(BenchmarkFormat.rate(forwarding)) packets/s per core")
            if let libsrtp {
                // Both baselines' costs per packet added: what a relay doing nothing else would reach.
                let both = 1 / (1 / libsrtp + 1 / forwarding)
                lines.append("    both baselines' costs added (1 / (1/libsrtp + 1/forwarding))  \(BenchmarkFormat.rate(both)) packets/s per core")
            }
            var line = "    the relay  \(BenchmarkFormat.rate(median.perCPUSecond)) packets/s per core"
            if let libsrtp {
                line += ", \(Self.percent(median.perCPUSecond / libsrtp)) of the libsrtp loop"
            }
            line += ", \(Self.percent(median.perCPUSecond / forwarding)) of the forwarding loop"
            lines.append(line)
            lines.append(
                "      wall clock \(BenchmarkFormat.rate(median.perWallSecond)) packets/s, relay thread busy \(Self.percent(median.utilization)), "
                    + "loss \(String(format: "%.2f", median.totals.loss * 100))% (\(median.totals.received) of \(median.totals.sent) came back), "
                    + "\(median.totals.verified) sampled packets \(scenario.outbound == nil ? "checked" : "decrypted with leg 1's announced key") "
                    + "and \(median.totals.failed) failed"
                    + (median.inboundProblems + median.outboundFailures > 0
                        ? "; relay counted \(median.inboundProblems) rejected inbound and \(median.outboundFailures) failed outbound packets" : ""))
            if runs.contains(where: { $0.totals.failed > 0 || $0.totals.verified == 0 }) {
                lines.append("      [VERIFICATION FAILED in a round: this figure is not valid]")
            }
            if index == 0 {
                lines.append(
                    "    goal ≥ 150,000 packets/s per core: \(median.perCPUSecond >= 150_000 ? "met" : "NOT MET") "
                        + "(a well-known userspace relay does about 100,000 on this machine's core)")
                if let libsrtp {
                    lines.append("    goal ≥ 60% of the libsrtp loop: \(median.perCPUSecond >= 0.6 * libsrtp ? "met" : "NOT MET")")
                }
            }
        }
        lines += try await measureMemory(relay: relay)
        try await group.shutdownGracefully()
        return lines
    }

    // MARK: Baselines

    private func measureLibSRTP(suite: String, operation: String, primitives: String) throws -> Double {
        let process = try LineProcess(baselineExecutable, ["srtp-loop", suite, Self.format(secondsPerMeasurement), operation, primitives])
        defer { process.finish() }
        guard let rate = fields(try process.expect("packets").prefixedWith("packets"))["per-second"] else {
            throw BenchmarkError(reason: "`\(process.command)` gave no rate")
        }
        return rate
    }

    private func measureForwardingLoop(mode: String) throws -> Double {
        let generator = try MediaLoadGenerator(executable: baselineExecutable, cpu: Self.generatorCPU, window: Self.window)
        let first = try freePortBlock(pairs: calls)
        let forwarder = try LineProcess(baselineExecutable, ["recv-send", String(first), String(calls), String(generator.receivePort), mode])
        defer { forwarder.finish() }
        _ = try forwarder.expect("ready")
        try generator.start((0..<calls).map { MediaLoadGenerator.Call(port: first + 2 * $0) })
        Thread.sleep(forTimeInterval: Self.warmUp / .seconds(1))
        forwarder.send("start")
        Thread.sleep(forTimeInterval: secondsPerMeasurement)
        forwarder.send("stop")
        let values = fields(try forwarder.expect("packets").prefixedWith("packets"))
        let totals = try generator.stop()
        guard totals.failed == 0, totals.verified > 0 else {
            throw BenchmarkError(reason: "the forwarding loop's packets did not check: \(totals)")
        }
        return values["per-second"] ?? 0
    }

    /// A run of `2 * pairs` ports on 127.0.0.1 that were all free a moment ago, outside the relay's range.
    private func freePortBlock(pairs: Int) throws -> Int {
        for _ in 0..<20 {
            let first = 2 * Int.random(in: 7_500...9_800)
            if first + 2 * pairs <= Self.ports.lowerBound, (first..<(first + 2 * pairs)).allSatisfy({ Self.udpPortIsFree($0) }) {
                return first
            }
        }
        throw BenchmarkError(reason: "no block of \(2 * pairs) free UDP ports below \(Self.ports.lowerBound)")
    }

    private static func udpPortIsFree(_ port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    // MARK: The relay

    private struct Snapshot {
        var relayed: UInt64 = 0
        var inboundProblems: UInt64 = 0
        var outboundFailures: UInt64 = 0
    }

    private func measureRelay(_ scenario: Scenario, relay: RTPRelay, cpuClock: clockid_t) async throws -> RelayRun {
        let generator = try MediaLoadGenerator(executable: baselineExecutable, cpu: Self.generatorCPU, window: Self.window)
        let (relayed, load) = try await setUpCalls(calls, scenario: scenario, relay: relay, generator: generator)
        do {
            try generator.start(load)
            try await Task.sleep(for: Self.warmUp)
            // The CPU window encloses the counters' window, so gathering them is charged to the relay.
            let cpuStart = Self.cpuSeconds(cpuClock)
            let wallStart = ContinuousClock.now
            let before = try await Self.snapshot(relayed)
            try await Task.sleep(for: .milliseconds(Int64(secondsPerMeasurement * 1_000)))
            let after = try await Self.snapshot(relayed)
            let wall = (ContinuousClock.now - wallStart) / .seconds(1)
            let cpu = Self.cpuSeconds(cpuClock) - cpuStart
            let totals = try generator.stop()
            await release(relayed)
            let packets = Double(after.relayed - before.relayed)
            return RelayRun(
                perCPUSecond: cpu > 0 ? packets / cpu : 0, perWallSecond: packets / wall, utilization: cpu / wall, totals: totals,
                inboundProblems: after.inboundProblems - before.inboundProblems, outboundFailures: after.outboundFailures - before.outboundFailures)
        } catch {
            await release(relayed)
            throw error
        }
    }

    /// Allocates `count` calls whose leg 0 peer is the generator's sender and leg 1 peer its
    /// receiver, keyed per `scenario`; returns them and what the generator must know.
    private func setUpCalls(
        _ count: Int, scenario: Scenario, relay: RTPRelay, generator: MediaLoadGenerator
    ) async throws -> ([RelayedCall], [MediaLoadGenerator.Call]) {
        let sender = try SocketAddress(ipAddress: "127.0.0.1", port: generator.sendPort)
        let receiver = try SocketAddress(ipAddress: "127.0.0.1", port: generator.receivePort)
        var relayed: [RelayedCall] = []
        var load: [MediaLoadGenerator.Call] = []
        do {
            for index in 0..<count {
                let call = try await relay.allocate(callID: "bench-\(UInt32.random(in: 0...UInt32.max))-\(index)", legs: 2)
                relayed.append(call)
                let peerKey = try scenario.inbound.map { try Self.randomKey($0) }
                let leg0 = try await call.update(leg: 0, MediaLegParameters(remote: sender, security: try Self.security(scenario.inbound, peerKey), payloadFormats: Self.pcmu))
                let leg1 = try await call.update(
                    leg: 1, MediaLegParameters(remote: receiver, security: try Self.security(scenario.outbound, try scenario.outbound.map { try Self.randomKey($0) }), payloadFormats: Self.pcmu))
                guard scenario.outbound == nil || leg1.outboundKey != nil else { throw BenchmarkError(reason: "leg 1 announced no key") }
                load.append(MediaLoadGenerator.Call(port: leg0.rtpPort, sendKey: peerKey, receiveKey: leg1.outboundKey))
            }
        } catch {
            await release(relayed)
            throw error
        }
        return (relayed, load)
    }

    private func release(_ calls: [RelayedCall]) async {
        for call in calls { await call.release() }
    }

    private static func security(_ suite: SRTPSuite?, _ peerKey: SRTPMasterKey?) throws -> MediaLegSecurity {
        guard let suite else { return .plain }
        return .srtp(outboundSuite: suite, peerKey: peerKey)
    }

    private static func randomKey(_ suite: SRTPSuite) throws -> SRTPMasterKey {
        try SRTPMasterKey(suite: suite, bytes: try SecureRandom.bytes(suite.keyAndSaltLength))
    }

    private static func snapshot(_ calls: [RelayedCall]) async throws -> Snapshot {
        var snapshot = Snapshot()
        for call in calls {
            let legs = try await call.statistics().legs
            snapshot.relayed += legs[1].outbound.packets
            snapshot.outboundFailures += legs[1].outbound.failures
            let inbound = legs[0].inbound
            snapshot.inboundProblems += inbound.authenticationFailures + inbound.replays + inbound.wrongSource + inbound.malformed + inbound.dropped
        }
        return snapshot
    }

    // MARK: Memory

    /// Resident memory before and after 1,000 two-leg SRTP calls, every leg keyed both ways and two
    /// packets through each leg's RTP socket, divided by the calls.
    private func measureMemory(relay: RTPRelay) async throws -> [String] {
        let scenario = Self.scenarios[0]
        // A first small set warms the allocator, NIO's pools and libsrtp's tables.
        do {
            let generator = try MediaLoadGenerator(executable: baselineExecutable, cpu: Self.generatorCPU, window: Self.window)
            let (warm, load) = try await setUpCalls(10, scenario: scenario, relay: relay, generator: generator)
            _ = try generator.burst(load, packets: 2)
            await release(warm)
        }
        _ = mallocTrim(0)
        let before = MemoryReading.resident()
        let generator = try MediaLoadGenerator(executable: baselineExecutable, cpu: Self.generatorCPU, window: Self.window)
        let (calls, load) = try await setUpCalls(memoryCalls, scenario: scenario, relay: relay, generator: generator)
        let totals = try generator.burst(load, packets: 2)
        var passed = 0
        for call in calls {
            let statistics = try await call.statistics()
            if statistics.legs[1].outbound.packets >= 1 { passed += 1 }
        }
        _ = mallocTrim(0)
        let after = MemoryReading.resident()
        await release(calls)
        let perCall = Double(after - before) / Double(memoryCalls) / 1_024
        return [
            "  memory per two-leg SRTP call (\(memoryCalls) calls, AES_CM_128_HMAC_SHA1_80 both legs: 4 libsrtp sessions and 4 sockets "
                + "per call, \(passed) calls relayed a packet, \(totals.received) of \(totals.sent) packets came back):",
            "    resident memory: \(String(format: "%.1f", perCall)) KiB per call, goal ≤ 32 KiB: \(perCall <= 32 ? "met" : "NOT MET")",
        ]
    }

    // MARK: Helpers

    private static func cpuSeconds(_ clock: clockid_t) -> Double {
        var time = timespec()
        clock_gettime(clock, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    private static func pinCurrentThread(to cpu: Int) throws {
        var set = cpu_set_t()
        withUnsafeMutableBytes(of: &set) { $0[cpu / 8] |= UInt8(1 << (cpu % 8)) }
        guard schedSetAffinity(0, MemoryLayout<cpu_set_t>.size, &set) == 0 else {
            throw BenchmarkError(reason: "sched_setaffinity(CPU \(cpu)): errno \(errno)")
        }
    }

    static func raiseDescriptorLimit(to needed: Int) throws {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        guard limit.rlim_cur < rlim_t(needed) else { return }
        limit.rlim_cur = min(limit.rlim_max, rlim_t(needed))
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        guard limit.rlim_cur >= rlim_t(needed) else { throw BenchmarkError(reason: "need \(needed) file descriptors, the hard limit is \(limit.rlim_max)") }
    }

    static func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

    static func percent(_ fraction: Double) -> String { "\(Int((fraction * 100).rounded()))%" }

    static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(format: "%.1f", seconds)
    }
}

extension Array where Element == String {
    /// Puts back the keyword `LineProcess.expect` took, for `fields`.
    func prefixedWith(_ keyword: String) -> [String] { [keyword] + self }
}

/// glibc's sched_setaffinity, which the Glibc module does not export (it is a GNU extension).
@_silgen_name("sched_setaffinity")
func schedSetAffinity(_ pid: pid_t, _ size: Int, _ mask: UnsafeMutableRawPointer) -> Int32
