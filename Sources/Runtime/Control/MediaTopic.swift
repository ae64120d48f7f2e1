import Foundation
import Media
import NIOCore
import SDP

/// `outpost show media`: the port pool, each relayed call's legs with their counters (packets,
/// authentication failures, replays, wrong-source drops, loss, jitter, what the peer reports),
/// and the relay's latest events.
struct MediaTopic: ControlTopic {
    let name = "media"
    let service: MediaService

    private struct StreamView: Encodable {
        let packets: UInt64
        let bytes: UInt64
        let rtcpPackets: UInt64
        let authenticationFailures: UInt64
        let replays: UInt64
        let wrongSource: UInt64
        let malformed: UInt64
        let dropped: UInt64
        let plainRtcpOnSecureLeg: UInt64
        let lost: Int64
        let duplicates: UInt64
        let jitterMilliseconds: Double
        let telephoneEvents: UInt64
    }

    private struct SentView: Encodable {
        let packets: UInt64
        let bytes: UInt64
        let failures: UInt64
        let peerReportedFractionLost: Double?
        let peerReportedCumulativeLost: Int32?
        let peerReportedJitterMilliseconds: Double?
    }

    private struct LegView: Encodable {
        let localPort: Int
        let remote: String?
        let latched: Bool
        let direction: String
        let encrypted: Bool
        let received: StreamView
        let sent: SentView
    }

    private struct CallView: Encodable {
        let callId: String
        let legs: [LegView]
    }

    private struct View: Encodable {
        let portRange: String
        let portPairs: Int
        let allocated: Int
        let inQuarantine: Int
        let calls: [CallView]
        let recentEvents: [String]
    }

    func render(json: Bool) async -> String {
        let relay = service.relay
        let calls = await relay.statistics().map { call in
            CallView(callId: call.callID, legs: call.legs.map(Self.view))
        }
        let now = ContinuousClock.now
        let events = service.recent.latest.reversed().map { entry in
            "\((now - entry.at).components.seconds) s ago: \(Self.describe(entry.event))"
        }
        let view = View(
            portRange: "\(relay.settings.ports.lowerBound)-\(relay.settings.ports.upperBound)", portPairs: relay.pool.capacity,
            allocated: relay.pool.allocated, inQuarantine: relay.pool.inQuarantine, calls: calls, recentEvents: Array(events))
        if json { return ControlJSON.encode(view) }
        var text = "ports \(view.portRange): \(view.allocated) of \(view.portPairs) pairs in use, \(view.inQuarantine) in quarantine; \(calls.count) relayed calls\n"
        var table = TextTable(headers: ["CALL", "LEG", "PORT", "PEER", "SRTP", "DIR", "RX", "TX", "AUTH-FAIL", "REPLAY", "WRONG-SRC", "LOST", "JITTER-MS", "PEER-LOSS"])
        for call in calls {
            for (index, leg) in call.legs.enumerated() {
                table.append([
                    call.callId, "\(index)", "\(leg.localPort)", (leg.remote ?? "-") + (leg.latched ? " (learned)" : ""),
                    leg.encrypted ? "yes" : "no", leg.direction, "\(leg.received.packets)", "\(leg.sent.packets)",
                    "\(leg.received.authenticationFailures)", "\(leg.received.replays)", "\(leg.received.wrongSource)",
                    "\(leg.received.lost)", String(format: "%.1f", leg.received.jitterMilliseconds),
                    leg.sent.peerReportedFractionLost.map { String(format: "%.1f%%", $0 * 100) } ?? "-",
                ])
            }
        }
        if !calls.isEmpty { text += table.render() }
        if !events.isEmpty { text += "recent events:\n" + events.prefix(10).map { "  \($0)\n" }.joined() }
        return text
    }

    private static func view(_ leg: MediaLegStatistics) -> LegView {
        let received = leg.inbound
        return LegView(
            localPort: leg.localRTPPort, remote: leg.remote.map(address), latched: leg.latched, direction: leg.direction.rawValue,
            encrypted: leg.encrypted,
            received: StreamView(
                packets: received.packets, bytes: received.bytes, rtcpPackets: received.rtcpPackets,
                authenticationFailures: received.authenticationFailures, replays: received.replays, wrongSource: received.wrongSource,
                malformed: received.malformed, dropped: received.dropped, plainRtcpOnSecureLeg: received.plainRTCPOnSecureLeg,
                lost: received.lost, duplicates: received.duplicates, jitterMilliseconds: received.jitterMilliseconds,
                telephoneEvents: received.telephoneEvents),
            sent: SentView(
                packets: leg.outbound.packets, bytes: leg.outbound.bytes, failures: leg.outbound.failures,
                peerReportedFractionLost: leg.outbound.peerReportedFractionLost,
                peerReportedCumulativeLost: leg.outbound.peerReportedCumulativeLost,
                peerReportedJitterMilliseconds: leg.outbound.peerReportedJitterMilliseconds))
    }

    static func address(_ address: SocketAddress) -> String {
        "udp:\(address.ipAddress ?? "?"):\(address.port ?? 0)"
    }

    static func describe(_ event: MediaEvent) -> String {
        switch event {
        case .timeout(let callID, let leg, let reason): "call \(callID) leg \(leg): \(reason)"
        case .latched(let callID, let leg, let source): "call \(callID) leg \(leg): peer learned at \(address(source))"
        case .telephoneEvent(let callID, let leg, let event):
            "call \(callID) leg \(leg): telephone event \(event.event) \(event.ended ? "ended after \(event.durationMilliseconds) ms" : "started")"
        }
    }
}
