import Edge
import Foundation

/// `outpost show calls`: every call up or ringing now, with its legs (transport, remote, suite,
/// codec, live packet counts, loss, jitter), duration and security level, and the call counters.
struct CallsTopic: ControlTopic {
    let name = "calls"
    let calls: CallRouter

    private struct View: Encodable {
        let active: Int
        let counters: [String: Int]
        let calls: [ActiveCall]
    }

    func render(json: Bool) async -> String {
        let active = await calls.activeCalls()
        if json { return ControlJSON.encode(View(active: active.count, counters: calls.statistics.snapshot(), calls: active)) }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        var table = TextTable(headers: ["call", "caller", "callee", "phase", "duration", "security", "leg", "transport", "remote", "suite", "codec", "rx", "tx", "lost", "jitter ms"])
        for call in active {
            let duration = call.answeredAt.map { "\((now - $0) / 1000)s" } ?? "-"
            for (index, leg) in call.legs.enumerated() {
                let first = index == 0
                table.append([
                    first ? String(call.id.prefix(8)) : "", first ? call.caller.number : "", first ? call.callee.number : "",
                    first ? call.phase : "", first ? duration : "", first ? call.security.rawValue : "", leg.role.rawValue, leg.transport,
                    leg.remote, leg.suite ?? "RTP", leg.codec ?? "-", leg.quality.map { "\($0.packetsReceived)" } ?? "-",
                    leg.quality.map { "\($0.packetsSent)" } ?? "-", leg.quality.map { "\($0.lost)" } ?? "-",
                    leg.quality.map { String(format: "%.1f", $0.jitterMilliseconds) } ?? "-",
                ])
            }
        }
        let counters = calls.statistics.snapshot().sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        // Each conversation between branch phones routed by the call manager is two calls here.
        let halves = active.compactMap { call in call.otherHalf.map { (call.id, $0) } }.filter { $0.0 < $0.1 }
        let pairs = halves.map { "\($0.0.prefix(8)) and \($0.1.prefix(8)) are one conversation through the call manager\n" }.joined()
        return "\(active.count) call\(active.count == 1 ? "" : "s") up\n" + table.render() + pairs + "counters: \(counters)\n"
    }
}
