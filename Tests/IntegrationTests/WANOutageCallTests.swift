import Edge
import Foundation
import Runtime
import Testing
import TestRequirementSupport

/// The issue's WAN drill for calls, in namespaces: two baresip phones in `phones`, the real
/// `outpost` binary in `edge`, Kamailio as the call manager in `hq`. Phone 2001 calls 2002
/// through the call manager (the dial plan sends 2XXX there in normal mode); the WAN link goes
/// down during the call; the call must go on with no gap in its audio (its media never crossed
/// the WAN), and a hang-up on the far half must end the near one although the call manager can no
/// longer carry the BYE. A call placed during the outage is carried by the edge alone.
@Suite(.serialized, .timeLimit(.minutes(3))) struct WANOutageCallTests {
    static let toneOfA = 440.0
    static let toneOfB = 1000.0

    /// Kamailio in hq, the real binary in edge with `extraYAML` added to its configuration;
    /// returns once the edge is in normal mode. `run` gets the drill and stops nothing itself.
    struct Drill {
        let lab: NetworkNamespaceLab
        let kamailio: KamailioUnderTest
        let config: String
        let state: String

        func phone(_ line: String, _ certificate: String, _ tone: Double) throws -> BaresipPhone {
            try BaresipPhone(
                name: line,
                account: .init(
                    aor: "sip:\(line)@edge.test", transport: .tls, outboundProxy: "sip:\(lab.edgePhonesAddress):5061;transport=tls",
                    registrationInterval: 600, mediaEncryption: .srtpMandatory),
                toneFrequency: tone,
                tls: .init(certificate: IntegrationPKI.path("\(certificate).pem"), key: IntegrationPKI.path("\(certificate).key"), caFile: IntegrationPKI.path("ca.pem")),
                network: .inside(lab, .phones, address: lab.phonesAddress))
        }

        var edgeLog: String { (try? String(contentsOfFile: state + "/edge.log", encoding: .utf8))?.suffix(4000).description ?? "" }
    }

    static func withDrill(extraYAML: String = "", _ run: (Drill) async throws -> Void) async throws {
        guard NetworkNamespaceLab.available else {
            TestRequirement.unmet("network namespaces need root and iproute2")
            return
        }
        if let reason = BaresipPhone.missingRequirement {
            TestRequirement.unmet(reason)
            return
        }
        let lab = try NetworkNamespaceLab.create()
        defer { lab.destroy() }
        let kamailio = try await KamailioUnderTest.start(address: lab.hqAddress, port: 5060, tlsPort: 5061, in: (lab, .hq))
        defer { kamailio.stop() }
        let state = NSTemporaryDirectory() + "outpost-wan-call-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: state) }
        let config = state + "/outpost.yaml"
        try """
            sip:
              listen:
                - {transport: tls, address: \(lab.edgePhonesAddress), port: 5061}
              tls:
                certificate: \(IntegrationPKI.path("server.pem"))
                key: \(IntegrationPKI.path("server.key"))
                trust_roots: \(IntegrationPKI.path("trusted.pem"))
                crls: [\(IntegrationPKI.path("crl.pem"))]
            trunk:
              call_managers:
                - {transport: udp, address: \(lab.hqAddress), port: 5060}
              domain: edge.test
              options_interval: 1
              failover_misses: 3
              failback_successes: 1
              hold_down: 3
            registrar:
              digest_algorithms: [MD5]
            devices:
              - {name: SEP001122334455, lines: ["2001"], security: encrypted}
              - {name: SEP00AABBCCDD02, lines: ["2002"], security: encrypted}
            dial_plan:
              - {name: through-cm, pattern: "2XXX", target: trunk, survivable: local}
            tftp: {enabled: false}
            state_directory: \(state)
            log: {level: info}
            \(extraYAML)
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let edge = try BackgroundEdge(launcher: lab.launcher(.edge), config: config, log: state + "/edge.log")
        defer { edge.kill() }
        try await BackgroundEdge.waitFor("normal mode", timeout: .seconds(20)) { try Self.mode(config) == "normal" }
        let drill = Drill(lab: lab, kamailio: kamailio, config: config, state: state)
        do { try await run(drill) } catch {
            Issue.record(error)
            Issue.record("edge log: \(drill.edgeLog)")
        }
    }

    @Test func aCallThroughTheCallManagerOutlivesTheWAN() async throws {
        try await Self.withDrill { drill in
            let (lab, kamailio, config, state) = (drill.lab, drill.kamailio, drill.config, drill.state)
            let a = try drill.phone("2001", "phone", Self.toneOfA)
            let b = try drill.phone("2002", "phone-b", Self.toneOfB)
            defer {
                a.stop()
                b.stop()
            }
            try await BaresipPhone.startAndRegister(a, b)
            #expect(Set(try kamailio.bindings().map(\.aor)) == ["2001", "2002"])

            // Every packet the phones receive, with its time and the phone's port.
            let capture = try await PacketCapture(
                launcher: lab.launcher(.phones), interface: "to-edge", filter: "udp and dst host \(lab.phonesAddress)",
                fields: ["frame.time_epoch", "udp.dstport"])
            defer { capture.stop() }

            try await a.dial("sip:2002@edge.test")
            _ = try await b.waitEvent(.incoming)
            try await a.waitEvent(.ringing)
            try await b.answer()
            try await a.waitEvent(.established)
            try await b.waitEvent(.established)
            try await a.waitEvent(.rtpEstablished)
            try await b.waitEvent(.rtpEstablished)
            try await Task.sleep(for: .seconds(2))

            let cut = Date().timeIntervalSince1970
            try lab.setWAN(up: false)
            try await BackgroundEdge.waitFor("survivable mode", timeout: .seconds(10)) { try Self.mode(config) == "survivable" }
            // tshark's lines lag the packets on a loaded machine: a margin before they are read.
            try await Task.sleep(for: .seconds(3))
            let packets = capture.packets.compactMap { fields -> (time: Double, port: Int)? in
                guard fields.count == 2, let time = Double(fields[0]), let port = Int(fields[1]) else { return nil }
                return (time, port)
            }
            // RTP, not the RTCP port beside it: a packet every 20 ms.
            let ports = Set(packets.map(\.port)).filter { port in packets.filter { $0.port == port }.count > 100 }
            #expect(ports.count == 2, "media reached both phones: \(ports)")
            for port in ports {
                let times = packets.filter { $0.port == port }.map(\.time).filter { $0 > cut - 1 }
                let gap = zip(times, times.dropFirst()).map { $1 - $0 }.max() ?? .infinity
                let after = times.filter { $0 > cut }.count
                print("WAN cut during a call: port \(port) received \(after) packets in the \(String(format: "%.1f", (times.last ?? cut) - cut)) s after the cut, longest gap \(String(format: "%.0f", gap * 1000)) ms")
                #expect(after > 100, "media went on after the cut on port \(port)")
                #expect(gap < 0.2, "the longest gap on port \(port) was \(gap) s")
            }

            // The far half hangs up: its BYE cannot cross the call manager, and the edge ends
            // the near half itself.
            let hangUp = ContinuousClock.now
            try await b.hangup()
            #expect(try await b.waitClosed() == "Connection reset by user")
            #expect(try await a.waitClosed() == "Connection reset by peer")
            let ended = hangUp.duration(to: .now)
            print("WAN cut during a call: the other phone's call ended \(ended) after the hang-up")
            #expect(ended < .seconds(3))
            try CallExpectations.expectHeard([(a, Self.toneOfB), (b, Self.toneOfA)], dominantShare: nil)
            let (near, far) = try await CallExpectations.closedHalves { try Self.records(state) }
            #expect(far.endedBy == .callee && far.endStatus == 200)
            #expect(near.endedBy == .edge && near.endReason?.contains("call manager was unreachable") == true, "\(near)")
            #expect(near.mode == "normal", "the call was placed before the outage")

            // During the outage 2XXX is served by the edge alone.
            try await a.dial("sip:2002@edge.test")
            _ = try await b.waitEvent(.incoming)
            try await b.answer()
            try await a.waitEvent(.established)
            try await Task.sleep(for: .seconds(1))
            try await a.hangup()
            #expect(try await b.waitClosed() == "Connection reset by peer")
            try await BackgroundEdge.waitFor("the local call's record", timeout: .seconds(10)) { try Self.records(state).count == 3 }
            let local = try #require(try Self.records(state).first { $0.mode == "survivable" })
            #expect(local.callee.device == "SEP00AABBCCDD02" && local.caller.device == "SEP001122334455" && local.route == "through-cm")
            #expect(local.security == .secure)
        }
    }

    /// A call to a phone registered at the call manager across the WAN: when the WAN fails its
    /// media is gone, and the edge ends the call with a Reason once `media.rtp_timeout` passes.
    @Test func aCallAcrossTheWANEndsWithAReasonOnceItsMediaIsGone() async throws {
        try await Self.withDrill(extraYAML: "media: {rtp_timeout: 3}") { drill in
            let lab = drill.lab
            let a = try drill.phone("2001", "phone", Self.toneOfA)
            let far = try BaresipPhone(
                name: "5001",
                account: .init(
                    aor: "sip:5001@\(lab.hqAddress)", transport: .udp, outboundProxy: "sip:\(lab.hqAddress):5060", registrationInterval: 600,
                    mediaEncryption: .srtpMandatory),
                toneFrequency: Self.toneOfB, network: .inside(lab, .hq, address: lab.hqAddress))
            defer {
                a.stop()
                far.stop()
            }
            try await BaresipPhone.startAndRegister(a, far)
            try await a.dial("sip:5001@edge.test")
            _ = try await far.waitEvent(.incoming)
            try await far.answer()
            try await a.waitEvent(.established)
            try await a.waitEvent(.rtpEstablished)
            try await Task.sleep(for: .seconds(1))

            let cut = ContinuousClock.now
            try lab.setWAN(up: false)
            #expect(try await a.waitClosed(timeout: .seconds(15)) == "Connection reset by peer")
            let ended = cut.duration(to: .now)
            print("WAN cut during a call across it: the branch phone's call ended \(ended) after the cut (media.rtp_timeout 3 s)")
            #expect(ended >= .seconds(2), "not before the media timeout")
            #expect(a.output.contains("Reason: Q.850;cause=41"), "\(a.diagnostics)")
            try await BackgroundEdge.waitFor("the record closed", timeout: .seconds(10)) {
                try Self.records(drill.state).first?.endedAt != nil
            }
            let record = try #require(try Self.records(drill.state).first)
            #expect(record.endedBy == .edge && record.q850Cause == 41 && record.endReason?.contains("media timeout") == true, "\(record)")
            #expect(record.callee.device == "call-manager" && record.callee.number == "5001")
        }
    }

    static func mode(_ config: String) throws -> String? {
        try BackgroundEdge.show("trunk", config: config)?["mode"] as? String
    }

    static func records(_ state: String) throws -> [CallRecord] {
        try SQLiteCallRecords.openExisting(stateDirectory: state).records()
    }
}
