import Edge
import Foundation

/// `outpost show registrations`: who is registered, where requests to them go, and whether the
/// call manager holds the binding too.
struct RegistrationsTopic: ControlTopic {
    let name = "registrations"
    let registrar: Registrar

    private struct View: Encodable {
        let mode: RegistrarMode
        let bindings: [Binding]
        let counters: [String: Int]
    }

    func render(json: Bool) async -> String {
        let bindings = registrar.bindings()
        if json { return ControlJSON.encode(View(mode: registrar.mode, bindings: bindings, counters: registrar.statistics.snapshot())) }
        let now = Int64(Date().timeIntervalSince1970)
        var table = TextTable(headers: ["LINE", "DEVICE", "CONTACT", "FLOW", "EXPIRES", "UPSTREAM", "USER AGENT"])
        for binding in bindings {
            let flow = binding.flow
            var via = "\(flow.transport.rawValue) \(flow.remoteAddress):\(flow.remotePort)"
            if let connection = flow.connection { via += flow.stale ? " #\(connection) (earlier process)" : " #\(connection)" }
            table.append([
                binding.addressOfRecord, binding.device, binding.contact, via, "\(max(0, binding.expiresAt - now)) s",
                binding.acceptedUpstream ? "yes" : "no", binding.userAgent ?? "",
            ])
        }
        let devices = Set(bindings.map(\.device)).count
        let inventory = registrar.inventory.devices.count
        let counters = registrar.statistics.snapshot().filter { $0.value > 0 }.sorted { $0.key < $1.key }
            .map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        return "registrar mode: \(registrar.mode.rawValue)\n" + table.render()
            + "\(bindings.count) binding\(bindings.count == 1 ? "" : "s"); \(devices) of \(inventory) inventory device\(inventory == 1 ? "" : "s") registered\n"
            + (counters.isEmpty ? "" : "counters: \(counters)\n")
    }
}
