import Edge
import Foundation
import SIPTransport
import Synchronization

/// `outpost show trunk`: the registrar mode, the keep-alive state of each call manager and the
/// recent transitions with their causes.
struct TrunkTopic: ControlTopic {
    let name = "trunk"
    let configuration: OutpostConfiguration.Trunk?
    let controller: SurvivabilityController?
    let monitor: TrunkMonitorService?

    private struct CallManagerView: Encodable {
        let transport: String
        let address: String
        let port: Int
        let answering: Bool
        let roundTripMilliseconds: Double?
        /// Why its last keep-alive failed (OpenSSL's reason for a refused TLS handshake).
        let lastFailure: String?
    }

    private struct View: Encodable {
        let configured: Bool
        let mode: RegistrarMode
        let state: SurvivabilityController.Snapshot?
        let callManagers: [CallManagerView]
        let optionsInterval: Int?
        let failoverMisses: Int?
        let failbackSuccesses: Int?
        let holdDown: Int?
    }

    func render(json: Bool) async -> String {
        guard let configuration, let controller, let monitor else {
            let view = View(
                configured: false, mode: .survivable, state: nil, callManagers: [], optionsInterval: nil, failoverMisses: nil,
                failbackSuccesses: nil, holdDown: nil)
            return json ? ControlJSON.encode(view) : "no trunk is configured: the edge is the registrar for every inventory device\n"
        }
        let snapshot = controller.snapshot()
        let roundTrips = monitor.lastRoundTrips.withLock { $0 }
        let failures = monitor.lastFailures.withLock { $0 }
        let managers = monitor.callManagers.map { manager in
            CallManagerView(
                transport: manager.transport.rawValue, address: manager.address, port: manager.port, answering: roundTrips[manager.remote] != nil,
                roundTripMilliseconds: roundTrips[manager.remote].map { $0 / .milliseconds(1) }, lastFailure: failures[manager.remote])
        }
        if json {
            return ControlJSON.encode(
                View(
                    configured: true, mode: snapshot.mode, state: snapshot, callManagers: managers, optionsInterval: configuration.optionsInterval,
                    failoverMisses: configuration.failoverMisses, failbackSuccesses: configuration.failbackSuccesses, holdDown: configuration.holdDown))
        }
        var text = "registrar mode: \(snapshot.mode.rawValue) — \(snapshot.state), for \(Int(snapshot.secondsInState)) s\n"
        text += "last cause: \(snapshot.lastCause)\n"
        text += "keep-alive every \(configuration.optionsInterval) s; failover after \(configuration.failoverMisses) misses; "
        text += "failback after \(configuration.failbackSuccesses) answers + \(configuration.holdDown) s hold-down\n"
        text += "failovers: \(snapshot.failovers)  failbacks: \(snapshot.failbacks)\n\n"
        var table = TextTable(headers: ["CALL MANAGER", "TRANSPORT", "ANSWERING", "ROUND TRIP", "LAST FAILURE"])
        for manager in managers {
            table.append([
                "\(manager.address):\(manager.port)", manager.transport, manager.answering ? "yes" : "no",
                manager.roundTripMilliseconds.map { String(format: "%.1f ms", $0) } ?? "-", manager.lastFailure ?? "",
            ])
        }
        text += table.render()
        if !snapshot.history.isEmpty {
            var history = TextTable(headers: ["TIME (UTC)", "TRANSITION", "CAUSE"])
            let formatter = ISO8601DateFormatter()
            for entry in snapshot.history.reversed() {
                history.append([formatter.string(from: Date(timeIntervalSince1970: entry.at)), "\(entry.from.rawValue) → \(entry.to.rawValue)", entry.cause])
            }
            text += "\n" + history.render()
        }
        return text
    }
}
