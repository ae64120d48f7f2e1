import Edge
import Foundation
import OutpostBench
import Runtime
import SIP
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Issue 12's verification with an independent load generator: sipp phones call each other
/// through the edge with real RTP on both legs. Sipp has no SRTP, so both are non-secure devices
/// (digest over UDP, plain RTP) and the relay anchors plain RTP on both legs. Line 3001's sipp
/// places the calls and streams G.711 A-law from its own RTP socket; line 3002's sipp answers every
/// call and echoes each packet back (`-rtp_echo`), so the relay measures both directions of both
/// legs. Each sipp registers its line from the port it then calls or answers from: the edge knows
/// a UDP caller by its registered flow and rings the callee at its registered Contact.
@Suite(.serialized, .timeLimit(.minutes(20))) struct SippCallLoadTests {
    static let callerLine = "3001"
    static let calleeLine = "3002"
    static let password = "s3cret"
    static let devices = [callerLine, calleeLine].map { line in
        Device(name: "sipp-\(line)", lines: [DeviceLine(number: line)], security: .nonSecure, digest: DigestAccount(username: line, password: password))
    }

    /// The soak's shape. CI runs the default; a longer soak is the same test with
    /// `OUTPOST_SOAK_SECONDS` (how long every call is up at once), `OUTPOST_SOAK_CALLS` (how many at
    /// once) and `OUTPOST_SOAK_CALL_SECONDS` (each call's length) in the environment.
    struct Soak: CustomStringConvertible {
        var concurrency: Int
        var callSeconds: Int
        var fullSeconds: Int

        static var fromEnvironment: Soak {
            func value(_ name: String, _ fallback: Int) -> Int { ProcessInfo.processInfo.environment[name].flatMap(Int.init) ?? fallback }
            return Soak(concurrency: value("OUTPOST_SOAK_CALLS", 200), callSeconds: value("OUTPOST_SOAK_CALL_SECONDS", 20), fullSeconds: value("OUTPOST_SOAK_SECONDS", 60))
        }

        /// Calls are placed evenly, `concurrency` per call length, so the count of calls up climbs
        /// to `concurrency` in one call length and stays there while placing goes on.
        var total: Int { concurrency * (callSeconds + fullSeconds) / callSeconds }
        var placingSeconds: Int { callSeconds + fullSeconds }
        var description: String {
            "\(total) calls of \(callSeconds) s, \(concurrency) at once for \(fullSeconds) s (\(String(format: "%.1f", Double(concurrency) / Double(callSeconds))) calls/s)"
        }
    }

    @Test func twoHundredConcurrentCallsWithRTPAllSucceedAndLoseNoPacket() async throws {
        let soak = Soak.fromEnvironment
        let ports = Self.mediaPorts()
        let edge = try await EdgeUnderTest.start { configuration in
            configuration.devices = Self.devices
            configuration.registrar.digestAlgorithms = [.md5]
            configuration.media.address = "127.0.0.1"
            configuration.media.portMin = ports.lowerBound
            configuration.media.portMax = ports.upperBound
            configuration.admin.enabled = true
            configuration.admin.port = 0
        }
        let adminPort = try #require(try await edge.adminPort())
        let caller = try SippPhone(line: Self.callerLine)
        let callee = try SippPhone(line: Self.calleeLine)
        defer { caller.stop(); callee.stop() }
        do {
            let timeout = Duration.seconds(soak.placingSeconds + soak.callSeconds + 60)
            let answering = try await Self.register(caller, callee, edgePort: edge.port, answering: soak.total, timeout: timeout)

            print("sipp soak: \(soak); relay ports \(ports)")
            let started = ContinuousClock.now
            let calling = try caller.call(
                edgePort: edge.port, number: Self.calleeLine, calls: soak.total, concurrency: soak.concurrency, callSeconds: soak.callSeconds,
                timeout: timeout)
            // The relay's view every few seconds (one hop to its event loop); the call layer's once,
            // at full load, as an operator would ask for it (a hop to every call: it takes seconds).
            var peakRelayed = 0
            var peakPorts = 0
            var slowestMedia = Duration.zero
            var atFullLoad: (calls: Int, took: Duration)?
            var scrapedAtFullLoad: (active: Double?, took: Duration, complaints: String?)?
            // Datagrams the kernel dropped for a full receive buffer, per socket: the relay's
            // (which must be none) and the echoing sipp's one socket for every call.
            var drops = UDPDrops()
            let deadline = started + timeout
            for second in 1... {
                guard calling.process.isRunning, ContinuousClock.now < deadline else { break }
                try await Task.sleep(for: .seconds(1))
                drops.sample(relayPorts: ports, echoPort: callee.mediaPort)
                guard second % 5 == 0 else { continue }
                let asked = ContinuousClock.now
                let relay = try await Self.show("media", edge, waitingAtMost: 60)
                slowestMedia = max(slowestMedia, asked.duration(to: .now))
                let relayed = (relay["calls"] as? [Any])?.count ?? 0
                peakRelayed = max(peakRelayed, relayed)
                peakPorts = max(peakPorts, relay["allocated"] as? Int ?? 0)
                if atFullLoad == nil, relayed >= soak.concurrency * 9 / 10 {
                    let asked = ContinuousClock.now
                    let calls = try await Self.show("calls", edge, waitingAtMost: 60)
                    atFullLoad = (calls["active"] as? Int ?? 0, asked.duration(to: .now))
                    let scraping = ContinuousClock.now
                    let scrape = try AdminMetricsTests.scrape(adminPort)
                    scrapedAtFullLoad = (
                        AdminMetricsTests.value("outpost_calls_active", in: scrape.output), scraping.duration(to: .now),
                        try AdminMetricsTests.promtoolComplaints(scrape.output)
                    )
                }
            }
            drops.sample(relayPorts: ports, echoPort: callee.mediaPort)
            try await SippPhone.waitExit(answering, within: .seconds(30))
            let elapsed = started.duration(to: .now)
            let placed = caller.statistics()
            let answered = callee.statistics()
            print(
                "sipp soak: \(placed["OutgoingCall(C)"] ?? "?") calls placed, \(placed["SuccessfulCall(C)"] ?? "?") succeeded, "
                    + "\(placed["FailedCall(C)"] ?? "?") failed, \(placed["Retransmissions(C)"] ?? "?") retransmissions (caller); "
                    + "\(answered["IncomingCall(C)"] ?? "?") answered, \(answered["SuccessfulCall(C)"] ?? "?") succeeded, \(answered["FailedCall(C)"] ?? "?") failed (callee); "
                    + "peak \(peakRelayed) calls relayed on \(peakPorts) port pairs (show media answered within \(slowestMedia)); show calls at full load: "
                    + "\(atFullLoad.map { "\($0.calls) calls up, answered in \($0.took)" } ?? "never asked"); \(elapsed)")
            #expect(!calling.process.isRunning && calling.process.terminationStatus == 0, "caller sipp: \(caller.diagnostics(calling))")
            #expect(!answering.process.isRunning && answering.process.terminationStatus == 0, "callee sipp: \(callee.diagnostics(answering))")
            #expect(placed["SuccessfulCall(C)"] == "\(soak.total)" && placed["FailedCall(C)"] == "0", "\(placed)")
            #expect(answered["SuccessfulCall(C)"] == "\(soak.total)" && answered["FailedCall(C)"] == "0", "\(answered)")
            #expect(peakRelayed >= soak.concurrency * 9 / 10, "the edge relayed at most \(peakRelayed) calls at once")
            #expect((atFullLoad?.calls ?? 0) >= soak.concurrency * 9 / 10, "show calls at full load: \(String(describing: atFullLoad))")
            print("sipp soak: /metrics at full load: \(String(describing: scrapedAtFullLoad))")
            #expect((scrapedAtFullLoad?.active ?? 0) >= Double(soak.concurrency * 9 / 10), "\(String(describing: scrapedAtFullLoad))")
            #expect(scrapedAtFullLoad != nil && scrapedAtFullLoad?.complaints == nil, "\(String(describing: scrapedAtFullLoad))")
            let finalMetrics = try AdminMetricsTests.scrape(adminPort).output
            let answeredCalls = AdminMetricsTests.value(#"outpost_calls_total{result="answered"}"#, in: finalMetrics)
            #expect(answeredCalls == Double(soak.total), "calls answered, as Prometheus reads them")
            #expect(AdminMetricsTests.value("outpost_media_calls_ended_total", in: finalMetrics) == Double(soak.total))
            #expect(AdminMetricsTests.value("outpost_calls_active", in: finalMetrics) == 0)
            #expect(AdminMetricsTests.value("outpost_media_port_pairs_in_use", in: finalMetrics) == 0)
            #expect((AdminMetricsTests.value("outpost_media_received_packets_total", in: finalMetrics) ?? 0) > Double(soak.total * 50))
            print("sipp soak: /metrics after: lost \(AdminMetricsTests.value("outpost_media_lost_packets_total", in: finalMetrics) ?? -1) of "
                + "\(AdminMetricsTests.value("outpost_media_expected_packets_total", in: finalMetrics) ?? -1) expected")

            let records = try SQLiteCallRecords.openExisting(stateDirectory: edge.stateDirectory).records()
            Self.report(records)
            print("sipp soak: receive-buffer drops: relay sockets \(drops.relay), the callee sipp's echo socket \(drops.echo)")
            #expect(drops.relay == 0, "the relay's sockets dropped \(drops.relay) datagrams")
            #expect(records.count == soak.total)
            #expect(Set(records.map(\.callID)).count == records.count, "one record a call")
            // A leg's peer sends 50 packets a second for the call's length; a little slack at both ends.
            let expectedPackets = UInt64(50 * soak.callSeconds * 8 / 10)
            var faults: [String] = []
            for record in records {
                let qualities = record.legs.compactMap(\.quality)
                if record.endedAt == nil || record.endStatus != 200 || record.endedBy != .caller || record.answeredAt == nil {
                    faults.append("\(record.callID): ended \(record.endedAt.map(String.init) ?? "never") by \(record.endedBy?.rawValue ?? "-") with \(record.endStatus.map(String.init) ?? "-") (\(record.endReason ?? ""))")
                } else if record.legs.map(\.role) != [.caller, .callee] || qualities.count != 2 {
                    faults.append("\(record.callID): legs \(record.legs)")
                } else if qualities[0].lost != 0 || (drops.echo == 0 && qualities[1].lost != 0) {
                    faults.append("\(record.callID): lost \(qualities.map(\.lost)) with the echo socket dropping \(drops.echo)")
                } else if let leg = qualities.first(where: { $0.packetsReceived < expectedPackets || $0.wrongSource != 0 }) {
                    faults.append("\(record.callID): received \(leg.packetsReceived), lost \(leg.lost), wrong source \(leg.wrongSource)")
                } else if qualities[0].packetsReceived != qualities[1].packetsSent || qualities[1].packetsReceived != qualities[0].packetsSent {
                    // What the relay took in on one leg it sent out on the other, every packet.
                    faults.append("\(record.callID): relayed \(qualities[1].packetsSent) of \(qualities[0].packetsReceived) and \(qualities[0].packetsSent) of \(qualities[1].packetsReceived)")
                }
            }
            #expect(faults.isEmpty, "\(faults.count) calls: \(faults.prefix(10).joined(separator: "; "))")
            // What the callee's legs lost is what never came back from sipp's echo, which the kernel
            // dropped at its one socket for all calls when sipp fell behind: the peer's loss, not the edge's.
            let echoLoss = records.flatMap(\.legs).filter { $0.role == .callee }.compactMap(\.quality).reduce(0) { $0 + $1.lost }
            #expect(echoLoss <= drops.echo, "the callee legs lost \(echoLoss) packets, the echo socket dropped only \(drops.echo)")

            // Nothing is left behind: no call, no relay port pair (released ports wait in quarantine).
            var calls = try await Self.show("calls", edge)
            for _ in 0..<50 where calls["active"] as? Int != 0 {
                try await Task.sleep(for: .milliseconds(200))
                calls = try await Self.show("calls", edge)
            }
            #expect(calls["active"] as? Int == 0, "\(calls)")
            let media = try await Self.show("media", edge)
            #expect(media["allocated"] as? Int == 0 && (media["calls"] as? [Any])?.isEmpty == true, "\(media)")
            print("sipp soak: afterwards 0 calls up, \(media["allocated"] ?? "?") port pairs allocated, \(media["in_quarantine"] ?? "?") in quarantine")
        } catch {
            Issue.record(error)
        }
        await edge.stop()
    }

    /// Registers both lines, each from its sipp's port, and has the callee's sipp answer `calls` calls.
    static func register(_ caller: SippPhone, _ callee: SippPhone, edgePort: Int, answering calls: Int, timeout: Duration) async throws -> BackgroundTool {
        try caller.register(edgePort: edgePort)
        try callee.register(edgePort: edgePort)
        let answering = try callee.answer(calls: calls, timeout: timeout)
        try await SippPhone.waitListening(callee.sipPort, tool: answering)
        return answering
    }

    /// `outpost show <topic> --json` of an in-process edge, parsed; asked from a Dispatch thread,
    /// as the edge renders on the cooperative pool a blocked test thread would take from it.
    static func show(_ topic: String, _ edge: EdgeUnderTest, waitingAtMost seconds: Int = 10) async throws -> [String: Any] {
        let client = ControlClient(stateDirectory: edge.stateDirectory, timeoutSeconds: seconds)
        let text = try await ControlSocketTests.BlockingOffThePool(client: client).show(topic, json: true)
        return try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] ?? [:]
    }

    /// A window of 4000 relay ports above the SIP ports the other tests pick, so concurrent edges
    /// rarely meet (and a port someone holds is skipped by the relay).
    static func mediaPorts() -> ClosedRange<Int> {
        let base = 2 * Int.random(in: 21_000...27_000)
        return base...(base + 3_999)
    }

    /// Prints what the relay measured, summed per leg over every call.
    static func report(_ records: [CallRecord]) {
        for role in [CallLegRecord.Role.caller, .callee] {
            let qualities = records.flatMap(\.legs).filter { $0.role == role }.compactMap(\.quality)
            let received = qualities.reduce(0) { $0 + $1.packetsReceived }
            let sent = qualities.reduce(0) { $0 + $1.packetsSent }
            let lost = qualities.reduce(0) { $0 + $1.lost }
            let jitter = qualities.map(\.jitterMilliseconds).max() ?? 0
            print(
                "sipp soak: \(role.rawValue) legs (\(qualities.count)): relay received \(received) packets, sent \(sent), lost \(lost), "
                    + "wrong source \(qualities.reduce(0) { $0 + $1.wrongSource }), worst jitter \(String(format: "%.2f", jitter)) ms")
        }
        // The callee's echo of the last packets before the BYE is still on its way when the relay
        // lets the call go: those never come back, and are no gap (RFC 3550 loss counts gaps).
        let calleeLegs = records.flatMap(\.legs).filter { $0.role == .callee }.compactMap(\.quality)
        let unechoed = calleeLegs.reduce(0) { $0 + Int($1.packetsSent) - Int($1.packetsReceived) }
        print("sipp soak: the callee echoed all but \(unechoed) of the packets relayed to it (\(String(format: "%.2f", Double(unechoed) / Double(max(calleeLegs.count, 1)))) a call)")
        let talk = records.compactMap(\.talkSeconds)
        print("sipp soak: \(records.count) records, talk time \(String(format: "%.1f", talk.min() ?? 0))-\(String(format: "%.1f", talk.max() ?? 0)) s")
    }
}

extension SippCallLoadTests {
    /// The real binary carrying sipp calls is killed with SIGKILL while some have ended and others
    /// are up, then started again on the same state directory: every call sipp placed has a record,
    /// those that ended before the kill have their whole record, and those that were up are closed
    /// by the restart with its reason. The phones' BYEs for those calls reach the restarted edge,
    /// which knows no such dialog.
    @Test func killNineDuringCallsLeavesEveryCallRecordedAndTheOpenOnesClosedAtRestart() async throws {
        let state = NSTemporaryDirectory() + "outpost-sipp-kill-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: state) }
        let port = try FreePort.pick()
        let media = Self.mediaPorts()
        let config = state + "/outpost.yaml"
        try Self.edgeConfiguration(port: port, media: media, state: state).write(toFile: config, atomically: true, encoding: .utf8)
        let caller = try SippPhone(line: Self.callerLine)
        let callee = try SippPhone(line: Self.calleeLine)
        defer { caller.stop(); callee.stop() }
        let first = try BackgroundEdge(launcher: [], config: config, log: state + "/first.log")
        defer { first.kill() }
        var second: BackgroundEdge?
        defer { second?.kill() }
        func records() throws -> [CallRecord] { try SQLiteCallRecords.openExisting(stateDirectory: state).records() }
        do {
            try await BackgroundEdge.waitFor("the edge", timeout: .seconds(20)) { try BackgroundEdge.show("calls", config: config) != nil }
            // 20 calls of 4 s placed over 4 s: the first end while the last are still up.
            let calls = 20
            _ = try await Self.register(caller, callee, edgePort: port, answering: calls, timeout: .seconds(120))
            let calling = try caller.call(
                edgePort: port, number: Self.calleeLine, calls: calls, concurrency: calls, callSeconds: 4, timeout: .seconds(120),
                traceMessages: true)
            try await BackgroundEdge.waitFor("half the calls over", timeout: .seconds(30)) {
                let written = try records()
                return written.count == calls && written.filter { !$0.isOpen }.count >= calls / 2
            }
            let killedAt = Int64(Date().timeIntervalSince1970 * 1000)
            first.kill()
            let before = try records()
            let openAtKill = Set(before.filter(\.isOpen).map(\.callID))
            print("sipp kill -9: \(before.count) calls recorded, \(before.count - openAtKill.count) ended and \(openAtKill.count) up when the edge was killed")
            #expect(!openAtKill.isEmpty && openAtKill.count < before.count, "the kill must find some calls ended and some up")

            let restarted = ContinuousClock.now
            second = try BackgroundEdge(launcher: [], config: config, log: state + "/second.log")
            try await BackgroundEdge.waitFor("the restarted edge", timeout: .seconds(20)) { try BackgroundEdge.show("calls", config: config) != nil }
            print("sipp kill -9: the restarted edge answered after \(restarted.duration(to: .now))")
            // The calls that were up end now on sipp's side; their BYEs meet the restarted edge.
            try await SippPhone.waitExit(calling, within: .seconds(60))
            #expect(!calling.process.isRunning, "caller sipp still running: \(caller.diagnostics(calling))")

            let messages = caller.messages()
            let invited = Set(messages.filter { $0.sent && $0.text.hasPrefix("INVITE ") }.compactMap { Self.callID($0.text) })
            let byeAnswers = messages.filter { !$0.sent && Self.header("CSeq", $0.text)?.hasSuffix(" BYE") == true }
            let endedByPhone = Set(byeAnswers.filter { $0.text.hasPrefix("SIP/2.0 200") }.compactMap { Self.callID($0.text) })
            let refused = Set(byeAnswers.filter { $0.text.hasPrefix("SIP/2.0 481") }.compactMap { Self.callID($0.text) })
            let after = try records()
            print(
                "sipp kill -9: sipp sent \(invited.count) INVITEs, \(endedByPhone.count) BYEs answered 200 before the kill, \(refused.count) answered 481 "
                    + "by the restarted edge; \(after.count) records, \(after.filter { $0.endedBy == .restart }.count) closed by the restart")
            #expect(invited.count == calls)
            #expect(Set(after.map(\.callID)) == invited && after.count == invited.count, "a record for every INVITE and no other")
            #expect(after.allSatisfy { !$0.isOpen }, "no record left open")
            for record in after {
                if openAtKill.contains(record.callID) {
                    #expect(record.endedBy == .restart && record.endReason == SQLiteCallRecords.restartReason, "\(record)")
                    // Closed when the edge was last seen alive (it notes so every 5 s), not at the restart.
                    #expect((record.endedAt ?? .max) <= killedAt && (record.endedAt ?? 0) >= killedAt - 6_000, "\(record)")
                    #expect(record.answeredAt != nil && record.q850Cause == 41, "\(record)")
                    #expect(!endedByPhone.contains(record.callID), "the edge answered the BYE of \(record.callID) before its record was closed")
                } else {
                    #expect(record.endedBy == .caller && record.endStatus == 200 && record.q850Cause == 16, "\(record)")
                    #expect((record.endedAt ?? .max) <= killedAt && record.answeredAt != nil, "\(record)")
                    #expect(record.legs.count == 2 && record.legs.allSatisfy { ($0.quality?.packetsReceived ?? 0) > 100 }, "\(record.legs)")
                }
            }
            #expect(endedByPhone.isSubset(of: Set(after.filter { $0.endedBy == .caller }.map(\.callID))), "every BYE the edge answered is in its record")
            // A BYE whose record was durable when the kill came before its 200 left is refused too.
            #expect(openAtKill.isSubset(of: refused) && refused.isDisjoint(with: endedByPhone), "each call up at the kill ended with its phone's BYE refused as unknown")
            let log = try String(contentsOfFile: state + "/second.log", encoding: .utf8)
            #expect(log.contains("Closed call records left open by the previous process") && log.contains("\(openAtKill.count)"), "\(log.suffix(2000))")
            let up = try #require(try BackgroundEdge.show("calls", config: config))
            let relay = try #require(try BackgroundEdge.show("media", config: config))
            #expect(up["active"] as? Int == 0 && relay["allocated"] as? Int == 0, "\(up) \(relay)")
        } catch {
            Issue.record(error)
            Issue.record("edge logs: \((try? String(contentsOfFile: state + "/first.log", encoding: .utf8))?.suffix(3000) ?? "") \((try? String(contentsOfFile: state + "/second.log", encoding: .utf8))?.suffix(2000) ?? "")")
        }
    }

    /// The real binary's configuration for the two sipp phones: UDP on `port`, both lines with MD5
    /// digest (sipp knows no other), the relay on loopback `media` ports, no TFTP or admin listener.
    static func edgeConfiguration(port: Int, media: ClosedRange<Int>, state: String, extra: String = "", level: String = "notice") -> String {
        let devices = Self.devices.map { device in
            let line = device.lines[0].number
            return "  - {name: \(device.name), lines: [\"\(line)\"], security: non-secure, digest: {username: \"\(line)\", password: \(Self.password)}}"
        }
        return """
            sip:
              listen:
                - {transport: udp, address: 127.0.0.1, port: \(port)}
            registrar:
              digest_algorithms: [MD5]
            devices:
            \(devices.joined(separator: "\n"))
            media: {address: 127.0.0.1, port_min: \(media.lowerBound), port_max: \(media.upperBound)}
            tftp: {enabled: false}
            admin: {enabled: false}
            \(extra)
            state_directory: \(state)
            log: {level: \(level)}
            """
    }

    static func header(_ name: String, _ message: String) -> String? {
        message.split(whereSeparator: \.isNewline).first { $0.lowercased().hasPrefix(name.lowercased() + ":") }
            .map { $0.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces) }
    }

    static func callID(_ message: String) -> String? { header("Call-ID", message) }
}

/// The `drops` column of /proc/net/udp: datagrams a socket's full receive buffer refused.
struct UDPDrops {
    /// The latest count of each relay socket seen, by inode (a closed socket leaves the table).
    private var relaySockets: [String: Int] = [:]
    private(set) var echo = 0

    var relay: Int { relaySockets.values.reduce(0, +) }

    /// The relay's sockets are this process's: a sipp socket that happens to sit on a port in the
    /// relay's window (the calling sipp never reads what comes back to it) is not counted.
    mutating func sample(relayPorts: ClosedRange<Int>, echoPort: Int) {
        let table = (try? String(contentsOfFile: "/proc/net/udp", encoding: .utf8)) ?? ""
        let own = Self.ownSocketInodes()
        for line in table.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ")
            guard fields.count >= 13, let drops = Int(fields[fields.count - 1]),
                let port = fields[1].split(separator: ":").last.flatMap({ Int($0, radix: 16) })
            else { continue }
            if port == echoPort { echo = max(echo, drops) }
            let inode = String(fields[9])
            if relayPorts.contains(port), own.contains(inode) { relaySockets[inode] = max(relaySockets[inode] ?? 0, drops) }
        }
    }

    /// The inodes of this process's sockets, from the `socket:[N]` links in /proc/self/fd.
    static func ownSocketInodes() -> Set<String> {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return Set(entries.compactMap { entry in
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(entry)"),
                target.hasPrefix("socket:[")
            else { return nil }
            return String(target.dropFirst("socket:[".count).dropLast())
        })
    }
}

/// One sipp standing in for a non-secure phone: its line, the UDP port it registers from and then
/// calls or answers from, its RTP port, and a work directory with the A-law its stream plays and
/// sipp's logs and statistics. `stop()` ends every sipp run it started and removes the directory.
final class SippPhone {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path
    /// sip-tester's own recording; its payload is what the caller's stream loops (`g711a.alaw`
    /// in the scenario's directory: sipp reads rtp_stream files from there).
    static let recording = "/usr/share/sip-tester/g711a.pcap"

    let sipp: String
    let line: String
    let sipPort: Int
    let mediaPort: Int
    let work: String
    private var runs: [BackgroundTool] = []

    init(line: String) throws {
        sipp = try #require(ExternalTool.path("sipp"), "sipp (sip-tester) is installed by appliance/install-deps")
        self.line = line
        sipPort = try FreePort.pick()
        mediaPort = try FreePort.pick()
        work = NSTemporaryDirectory() + "sipp-phone-\(line)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let pcap = try #require(FileManager.default.contents(atPath: Self.recording), "\(Self.recording) comes with sip-tester")
        let audio = try Self.rtpPayloads(ofPcap: pcap)
        try #require(audio.count > 8_000, "\(Self.recording) holds \(audio.count) bytes of audio")
        try audio.write(to: URL(fileURLWithPath: work + "/g711a.alaw"))
    }

    func stop() {
        for run in runs { run.stop() }
        try? FileManager.default.removeItem(atPath: work)
    }

    private func start(_ arguments: [String], timeout: Duration) throws -> BackgroundTool {
        let run = try BackgroundTool([sipp] + arguments, timeout: timeout, directory: work)
        runs.append(run)
        return run
    }

    /// Registers the line with digest from `sipPort`, the flow the edge then knows the phone by.
    func register(edgePort: Int) throws {
        let (outcome, log) = try RegistrarInteropTests.sipp(
            ["127.0.0.1:\(edgePort)", "-sf", "\(Self.fixtures)/sipp-register-digest.xml", "-t", "u1", "-i", "127.0.0.1", "-p", "\(sipPort)",
             "-s", line, "-au", line, "-ap", SippCallLoadTests.password, "-m", "1"],
            work: work)
        try #require(outcome.status == 0, "line \(line) did not register: \(log.suffix(2000))")
    }

    /// Answers `calls` calls to the line, echoing their RTP; exits once they are over.
    func answer(calls: Int, timeout: Duration, traceMessages: Bool = false) throws -> BackgroundTool {
        try start(
            ["-sf", "\(Self.fixtures)/sipp-call-uas.xml", "-t", "u1", "-i", "127.0.0.1", "-p", "\(sipPort)", "-mi", "127.0.0.1",
             "-mp", "\(mediaPort)", "-rtp_echo", "-s", line, "-m", "\(calls)"] + common(traceMessages: traceMessages),
            timeout: timeout)
    }

    /// Places `calls` calls to `number`, evenly, `concurrency` per `placingSeconds` (by default the
    /// call length), each with RTP for `callSeconds` then a BYE; exits once they are over.
    func call(
        edgePort: Int, number: String, calls: Int, concurrency: Int, callSeconds: Int, placingSeconds: Int? = nil, timeout: Duration,
        traceMessages: Bool = false
    ) throws -> BackgroundTool {
        try start(
            ["127.0.0.1:\(edgePort)", "-sf", "\(Self.fixtures)/sipp-call-uac.xml", "-t", "u1", "-i", "127.0.0.1", "-p", "\(sipPort)",
             "-mi", "127.0.0.1", "-mp", "\(mediaPort)", "-key", "caller", line, "-s", number, "-m", "\(calls)", "-l", "\(concurrency)",
             "-r", "\(concurrency)", "-rp", "\((placingSeconds ?? callSeconds) * 1000)", "-d", "\(callSeconds * 1000)", "-recv_timeout", "10000"]
                + common(traceMessages: traceMessages),
            timeout: timeout)
    }

    private func common(traceMessages: Bool) -> [String] {
        ["-nostdin", "-trace_err", "-error_file", "\(work)/errors.log", "-trace_stat", "-stf", "\(work)/statistics.csv", "-fd", "1"]
            + (traceMessages ? ["-trace_msg", "-message_file", "\(work)/messages.log"] : [])
    }

    /// Sipp's last statistics line, by column name (`SuccessfulCall(C)`, `FailedCall(C)`, …).
    func statistics() -> [String: String] {
        let lines = ((try? String(contentsOfFile: "\(work)/statistics.csv", encoding: .utf8)) ?? "").split(whereSeparator: \.isNewline)
        guard let header = lines.first, let last = lines.last, lines.count > 1 else { return [:] }
        let names = header.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
        let values = last.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
        return Dictionary(zip(names, values), uniquingKeysWith: { first, _ in first })
    }

    /// The messages sipp sent or received, each with its direction, from its `-trace_msg` log.
    func messages() -> [(sent: Bool, text: String)] {
        let log = (try? String(contentsOfFile: "\(work)/messages.log", encoding: .utf8)) ?? ""
        return log.components(separatedBy: "----------------------------------------------- ").dropFirst().compactMap { entry in
            let lines = entry.split(separator: "\n", maxSplits: 2, omittingEmptySubsequences: false)
            guard lines.count == 3 else { return nil }
            return (lines[1].contains("message sent"), lines[2].trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    func diagnostics(_ tool: BackgroundTool) -> String {
        let errors = (try? String(contentsOfFile: "\(work)/errors.log", encoding: .utf8)) ?? ""
        return "exit \(tool.process.isRunning ? "none yet" : "\(tool.process.terminationStatus)"); errors: \(errors.suffix(2000)); output: \(tool.output.suffix(1500))"
    }

    /// Waits until something listens on UDP 127.0.0.1:`port` (sipp bound its socket).
    static func waitListening(_ port: Int, tool: BackgroundTool) async throws {
        let local = String(format: "0100007F:%04X", port)
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline, tool.process.isRunning {
            if let table = try? String(contentsOfFile: "/proc/net/udp", encoding: .utf8), table.contains(local) { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        let state = tool.process.isRunning ? "still running" : "exited \(tool.process.terminationStatus)"
        throw LabError(reason: "sipp did not listen on 127.0.0.1:\(port) within 10 s (\(state)): \(tool.output.suffix(1500))")
    }

    static func waitExit(_ tool: BackgroundTool, within limit: Duration) async throws {
        let deadline = ContinuousClock.now + limit
        while tool.process.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
    }

    /// The RTP payloads of a pcap's packets in order (Ethernet, IPv4, UDP, RTP without extension).
    static func rtpPayloads(ofPcap file: Data) throws -> Data {
        let bytes = [UInt8](file)
        func little32(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 | Int(bytes[at + 2]) << 16 | Int(bytes[at + 3]) << 24 }
        guard bytes.count > 24, bytes[0..<4] == [0xD4, 0xC3, 0xB2, 0xA1], little32(20) == 1 else {
            throw LabError(reason: "not a little-endian Ethernet pcap")
        }
        var payloads = Data()
        var offset = 24
        while offset + 16 <= bytes.count {
            let length = little32(offset + 8)
            let packet = offset + 16
            offset = packet + length
            guard offset <= bytes.count, length > 14 + 20 + 8 + 12, bytes[packet + 12] == 0x08, bytes[packet + 13] == 0x00 else { continue }
            let ip = packet + 14
            let udp = ip + Int(bytes[ip] & 0x0F) * 4
            guard bytes[ip + 9] == 17 else { continue }
            let rtp = udp + 8
            let header = 12 + Int(bytes[rtp] & 0x0F) * 4
            guard bytes[rtp] >> 6 == 2, bytes[rtp] & 0x10 == 0, rtp + header < offset else { continue }
            payloads.append(contentsOf: bytes[(rtp + header)..<offset])
        }
        return payloads
    }
}
