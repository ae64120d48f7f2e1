import Edge
import SIP

/// `outpost show reachability <line>`: an OPTIONS to every binding of the line over the flow the
/// edge would use for a call (RFC 5626 §5.3), with each phone's answer and round trip, so an
/// operator can tell a registered phone from a reachable one.
struct ReachabilityTopic: ControlTopic {
    let name = "reachability"
    let argumentName: String? = "line"
    let registrar: Registrar
    let phones: PhoneFlows
    let serverName: String

    private struct Probe: Encodable {
        let contact: String
        let device: String
        let flow: String
        let status: Int?
        let reason: String
        let roundTripMilliseconds: Double?
    }

    func render(json: Bool) async -> String { "" }

    func render(json: Bool, argument line: String) async -> String {
        let bindings = registrar.bindings(for: line)
        let probes = await withTaskGroup(of: Probe.self) { group in
            for binding in bindings { group.addTask { await probe(binding, line: line) } }
            var probes: [Probe] = []
            for await probe in group { probes.append(probe) }
            return probes.sorted { $0.contact < $1.contact }
        }
        if json { return ControlJSON.encode(probes) }
        guard !probes.isEmpty else { return "line \(line) has no bindings\n" }
        var table = TextTable(headers: ["CONTACT", "DEVICE", "FLOW", "ANSWER", "ROUND TRIP"])
        for probe in probes {
            table.append([
                probe.contact, probe.device, probe.flow, probe.status.map { "\($0) \(probe.reason)" } ?? probe.reason,
                probe.roundTripMilliseconds.map { "\(Int($0.rounded())) ms" } ?? "-",
            ])
        }
        return table.render()
    }

    private func probe(_ binding: Binding, line: String) async -> Probe {
        let flow = binding.flow
        let flowText = "\(flow.transport.rawValue) \(flow.remoteAddress):\(flow.remotePort)"
        let request = SIPRequest(
            outOfDialog: .options, uri: .sip(SIPURI(host: flow.remoteAddress)), from: "sip:outpost@\(registrar.settings.realm)",
            to: "sip:\(line)@\(registrar.settings.realm)", callID: SIPIdentifiers.callID(), cseq: 1, extra: [(.userAgent, serverName)])
        let clock = ContinuousClock()
        let started = clock.now
        do {
            let response = try await phones.send(request, to: binding, deadline: .seconds(3))
            return Probe(
                contact: binding.contact, device: binding.device, flow: flowText, status: response.statusCode, reason: response.reasonPhrase,
                roundTripMilliseconds: started.duration(to: clock.now) / .milliseconds(1))
        } catch {
            return Probe(contact: binding.contact, device: binding.device, flow: flowText, status: nil, reason: "\(error)", roundTripMilliseconds: nil)
        }
    }
}
