import Edge
import Foundation
import PKI
import Media
import SIPTransport
import Synchronization
import TFTP

/// `outpost show status`: the whole edge on one screen — mode, trunk, IPsec, registrations,
/// calls, the SRST certificate's expiry, TFTP, PSTN, and the latest alarms — read from the same
/// counters as `/metrics`.
struct StatusTopic: ControlTopic {
    let name = "status"
    let sources: EdgeMetrics
    let serverName: String
    /// The certificate the TLS listeners present, read at each request so a renewal shows.
    let certificateFile: String?
    let expiryWarningDays: Int
    let startedAt: Date
    let alarms: RecentAlarms

    struct View: Encodable {
        struct CallManager: Encodable {
            let address: String
            let answering: Bool
            let roundTripMilliseconds: Double?
        }

        struct Trunk: Encodable {
            let configured: Bool
            let state: String?
            let secondsInState: Int?
            let lastCause: String?
            let failovers: Int?
            let failbacks: Int?
            let callManagers: [CallManager]
        }

        struct IPsec: Encodable {
            let configured: Bool
            let protected: Bool?
            let reason: String?
        }

        struct Registrations: Encodable {
            let bindings: Int
            let byTransport: [String: Int]
            let devicesRegistered: Int
            let inventoryDevices: Int
            let lockouts: Int
        }

        struct Calls: Encodable {
            let active: Int
            let attempts: Int
            let byResult: [String: Int]
            let relayPortPairsInUse: Int
            let relayPortPairs: Int
        }

        struct Certificate: Encodable {
            /// pki.expiry_warning_days: fewer days left than this is a warning.
            var warningDays: Int = 30
            let subject: String?
            let notAfter: String?
            let daysLeft: Int?
            let problem: String?
        }

        struct SIP: Encodable {
            let transactions: Int
            let connections: [String: Int]
            let tlsHandshakeFailures: Int
            let parseErrors: Int
        }

        struct TFTP: Encodable {
            let enabled: Bool
            let activeTransfers: Int
            let completed: UInt64
            let failed: UInt64
        }

        let server: String
        let uptimeSeconds: Int
        let mode: RegistrarMode
        let trunk: Trunk
        let ipsec: IPsec
        let registrations: Registrations
        let calls: Calls
        let sip: SIP
        let certificate: Certificate
        let tftp: TFTP
        let pstn: String
        let alarms: [RecentAlarms.Entry]
    }

    func render(json: Bool) async -> String {
        let view = await snapshot()
        return json ? ControlJSON.encode(view) : Self.text(view, now: Date())
    }

    func snapshot() async -> View {
        let registrar = sources.registrar
        let bindings = registrar.bindings()
        var trunk = View.Trunk(configured: false, state: nil, secondsInState: nil, lastCause: nil, failovers: nil, failbacks: nil, callManagers: [])
        if let survivability = sources.survivability, let monitor = sources.monitor {
            let snapshot = survivability.snapshot()
            let roundTrips = monitor.lastRoundTrips.withLock { $0 }
            trunk = View.Trunk(
                configured: true, state: snapshot.state, secondsInState: Int(snapshot.secondsInState), lastCause: snapshot.lastCause,
                failovers: snapshot.failovers, failbacks: snapshot.failbacks,
                callManagers: monitor.callManagers.map { manager in
                    let answered = roundTrips[manager.remote]
                    return View.CallManager(
                        address: manager.remote, answering: answered != nil, roundTripMilliseconds: answered.map { $0 / .milliseconds(1) })
                })
        }
        var ipsec = View.IPsec(configured: false, protected: nil, reason: nil)
        if let protection = sources.trunkProtection {
            let status = await protection.currentStatus()
            switch status.state {
            case .protected: ipsec = View.IPsec(configured: true, protected: true, reason: nil)
            case .unprotected(let reason): ipsec = View.IPsec(configured: true, protected: false, reason: reason)
            }
        }
        let counters = sources.calls.statistics.snapshot()
        let transport = sources.transport.snapshot
        let tftp = sources.tftp.map { statistics in
            let snapshot = statistics.snapshot
            return View.TFTP(
                enabled: true, activeTransfers: statistics.activeTransfers, completed: snapshot[.transfersCompleted] ?? 0,
                failed: (snapshot[.transfersFailed] ?? 0) + (snapshot[.transfersTimedOut] ?? 0) + (snapshot[.transfersPastDeadline] ?? 0))
        }
        return View(
            server: serverName, uptimeSeconds: Int(Date().timeIntervalSince(startedAt)), mode: registrar.mode, trunk: trunk, ipsec: ipsec,
            registrations: View.Registrations(
                bindings: bindings.count,
                byTransport: Dictionary(grouping: bindings, by: { $0.flow.transport.rawValue.lowercased() }).mapValues(\.count),
                devicesRegistered: Set(bindings.map(\.device)).count, inventoryDevices: registrar.inventory.devices.count,
                lockouts: registrar.statistics[.lockouts]),
            calls: View.Calls(
                active: sources.calls.activeCallCount, attempts: counters["attempts"] ?? 0, byResult: sources.calls.statistics.byResult,
                relayPortPairsInUse: sources.relay.pool.allocated, relayPortPairs: sources.relay.pool.capacity),
            sip: View.SIP(
                transactions: sources.stack.activeTransactions,
                connections: Dictionary(
                    uniqueKeysWithValues: SIPTransportKind.allCases.map { ($0.rawValue.lowercased(), sources.connections.count(of: $0)) }),
                tlsHandshakeFailures: sources.tls.failures.values.reduce(0, +), parseErrors: transport[.parseErrors] ?? 0),
            certificate: { var found = certificate(); found.warningDays = expiryWarningDays; return found }(),
            tftp: tftp ?? View.TFTP(enabled: false, activeTransfers: 0, completed: 0, failed: 0),
            pstn: "no PSTN ports are configured",
            alarms: Array(alarms.latest.prefix(10)))
    }

    private func certificate() -> View.Certificate {
        guard let certificateFile else { return View.Certificate(subject: nil, notAfter: nil, daysLeft: nil, problem: "no TLS listener") }
        do {
            let text = try String(contentsOfFile: certificateFile, encoding: .utf8)
            guard let leaf = try Certificate.all(pemEncoded: text).first else {
                return View.Certificate(subject: nil, notAfter: nil, daysLeft: nil, problem: "\(certificateFile) holds no certificate")
            }
            let seconds = leaf.notAfter.seconds(since: .now)
            return View.Certificate(
                subject: leaf.subject, notAfter: "\(leaf.notAfter)", daysLeft: Int(seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400),
                problem: nil)
        } catch {
            return View.Certificate(subject: nil, notAfter: nil, daysLeft: nil, problem: "\(certificateFile): \(error)")
        }
    }

    /// `45 s`, `12 min`, `3 h 5 min`, `2 d 4 h`: an age at a glance.
    static func compact(_ seconds: Int) -> String {
        switch seconds {
        case ..<120: "\(seconds) s"
        case ..<3_600: "\(seconds / 60) min"
        case ..<86_400: "\(seconds / 3_600) h \(seconds % 3_600 / 60) min"
        default: "\(seconds / 86_400) d \(seconds % 86_400 / 3_600) h"
        }
    }

    /// The screen is laid out for a terminal this wide; longer values are cut with an ellipsis.
    static let width = 100

    static func fitted(_ line: String) -> String { line.count <= width ? line : String(line.prefix(width - 1)) + "…" }

    /// The screen as one terminal line each: a labelled row, or a continuation (the label empty),
    /// or an alarm (no label).
    static func text(_ view: View, now: Date) -> String {
        rows(view, now: now).map { row in
            fitted(row.label.map { $0.padding(toLength: 15, withPad: " ", startingAt: 0) + row.value } ?? "  " + row.value)
        }.joined(separator: "\n") + "\n"
    }

    /// What the screen says, row by row, for the terminal and the status page alike.
    static func rows(_ view: View, now: Date) -> [(label: String?, value: String)] {
        var lines: [(label: String?, value: String)] = []
        func row(_ label: String, _ value: String) { lines.append((label, value)) }
        row("edge", "\(view.server), up \(Self.compact(view.uptimeSeconds))")
        row(
            "mode",
            view.mode == .normal
                ? "normal: the call manager is the phones' registrar"
                : view.trunk.configured ? "SURVIVABLE: the edge is the phones' registrar and call router" : "survivable (no trunk configured)")
        if view.trunk.configured {
            let failovers = view.trunk.failovers ?? 0
            let failbacks = view.trunk.failbacks ?? 0
            row(
                "trunk",
                "\(view.trunk.state ?? "?") for \(Self.compact(view.trunk.secondsInState ?? 0)); "
                    + "\(failovers) failover\(failovers == 1 ? "" : "s"), \(failbacks) failback\(failbacks == 1 ? "" : "s")")
            for manager in view.trunk.callManagers {
                row("", "\(manager.address)  \(manager.answering ? "answering" : "NOT ANSWERING")\(manager.roundTripMilliseconds.map { String(format: " %.1f ms", $0) } ?? "")")
            }
            if let cause = view.trunk.lastCause { row("", "last cause: \(cause)") }
        } else {
            row("trunk", "none configured")
        }
        row("ipsec", view.ipsec.configured ? (view.ipsec.protected == true ? "trunk protected" : "TRUNK NOT PROTECTED: \(view.ipsec.reason ?? "?")") : "not configured")
        let transports = view.registrations.byTransport.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        row(
            "registrations",
            "\(view.registrations.bindings) binding\(view.registrations.bindings == 1 ? "" : "s")\(transports.isEmpty ? "" : " (\(transports))"); "
                + "\(view.registrations.devicesRegistered) of \(view.registrations.inventoryDevices) devices registered"
                + (view.registrations.lockouts > 0 ? "; \(view.registrations.lockouts) lockouts" : ""))
        let results = view.calls.byResult.sorted { $0.value > $1.value }.prefix(5).map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        row(
            "calls",
            "\(view.calls.active) up; \(view.calls.attempts) attempted\(results.isEmpty ? "" : " (\(results))"); "
                + "relay \(view.calls.relayPortPairsInUse) of \(view.calls.relayPortPairs) port pairs in use")
        let connections = view.sip.connections.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        row(
            "sip",
            "\(view.sip.transactions) transactions; sockets \(connections); \(view.sip.tlsHandshakeFailures) TLS refusals, \(view.sip.parseErrors) parse errors")
        if let days = view.certificate.daysLeft {
            let warning = days < 0 ? "EXPIRED" : days <= view.certificate.warningDays ? "EXPIRES SOON" : "valid"
            row("certificate", "\(warning): \(view.certificate.subject ?? "?"), until \(view.certificate.notAfter ?? "?") (\(days) days)")
        } else {
            row("certificate", view.certificate.problem ?? "?")
        }
        row(
            "tftp",
            view.tftp.enabled
                ? "\(view.tftp.activeTransfers) transfers now; \(view.tftp.completed) completed, \(view.tftp.failed) failed" : "off")
        row("pstn", view.pstn)
        if view.alarms.isEmpty {
            row("alarms", "none")
        } else {
            row("alarms", "\(view.alarms.count) latest, newest first:")
            for alarm in view.alarms {
                let age = Int(now.timeIntervalSince1970 - alarm.at)
                lines.append((nil, "\(Self.compact(max(0, age))) ago  \(alarm.level)  \(alarm.message)"))
            }
        }
        return lines
    }
}
