import Edge
import Foundation
import Provisioning

/// The read-only page at `/` of the admin listener: what `outpost show status` says, then the
/// registrations, the calls up and the latest call records. Plain HTML that reloads itself every
/// few seconds; nothing on it runs script, and every value from the network (device names, user
/// agents, numbers) is escaped.
enum StatusPage {
    static let refreshSeconds = 5

    struct Content {
        var status: StatusTopic.View
        var bindings: [Binding]
        var calls: [ActiveCall]
        var records: [CallRecord]
        var now: Date
    }

    static func render(_ content: Content) -> String {
        let status = content.status
        var html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta http-equiv="refresh" content="\(refreshSeconds)">
            <title>\(escape(status.server)) — Outpost edge</title>
            <style>
            body{font-family:sans-serif;margin:1.5em;color:#222}h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.5em}
            table{border-collapse:collapse}td,th{padding:.2em .8em;border-bottom:1px solid #ddd;text-align:left;font-size:.9em}
            .bad{color:#b00;font-weight:bold}.good{color:#070}
            </style></head><body>
            <h1>\(escape(status.server)): <span id="mode" class="\(status.mode == .normal || !status.trunk.configured ? "good" : "bad")">\(escape(status.mode.rawValue))</span></h1>
            <p>Up \(StatusTopic.compact(status.uptimeSeconds)); this page refreshes every \(refreshSeconds) s.</p>
            <table id="status">
            """
        func row(_ label: String, _ value: String, bad: Bool = false) {
            html += "<tr><th>\(escape(label))</th><td\(bad ? " class=\"bad\"" : "")>\(escape(value))</td></tr>\n"
        }
        for case let (label?, value) in StatusTopic.rows(status, now: content.now) where !label.isEmpty {
            row(label, value, bad: value.contains("SURVIVABLE") || value.contains("NOT") || value.contains("EXPIRE"))
        }
        html += "</table>\n"

        html += "<h2>Registrations (\(content.bindings.count))</h2>\n<table id=\"registrations\"><tr><th>Line</th><th>Device</th><th>Flow</th><th>Expires in</th><th>Upstream</th><th>User agent</th></tr>\n"
        let seconds = Int64(content.now.timeIntervalSince1970)
        for binding in content.bindings {
            let flow = "\(binding.flow.transport.rawValue.lowercased()):\(binding.flow.remoteAddress):\(binding.flow.remotePort)"
            html += "<tr>" + [binding.addressOfRecord, binding.device, flow, "\(max(0, binding.expiresAt - seconds)) s", binding.acceptedUpstream ? "yes" : "no",
                              binding.userAgent ?? ""].map { "<td>\(escape($0))</td>" }.joined() + "</tr>\n"
        }
        html += "</table>\n"

        html += "<h2>Calls up (\(content.calls.count))</h2>\n<table id=\"calls\"><tr><th>Caller</th><th>Callee</th><th>Phase</th><th>Duration</th><th>Security</th><th>Legs</th></tr>\n"
        let milliseconds = Int64(content.now.timeIntervalSince1970 * 1000)
        for call in content.calls {
            let duration = call.answeredAt.map { "\((milliseconds - $0) / 1000) s" } ?? "-"
            let legs = call.legs.map { "\($0.role.rawValue) \($0.transport) \($0.suite ?? "RTP") \($0.codec ?? "")" }.joined(separator: "; ")
            html += "<tr>" + [call.caller.number, call.callee.number, call.phase, duration, call.security.rawValue, legs].map { "<td>\(escape($0))</td>" }.joined() + "</tr>\n"
        }
        html += "</table>\n"

        html += "<h2>Latest call records</h2>\n<table id=\"records\"><tr><th>Started (UTC)</th><th>Caller</th><th>Dialled</th><th>Talk</th><th>Ended by</th><th>Status</th><th>Reason</th><th>Security</th></tr>\n"
        let formatter = ISO8601DateFormatter()
        for record in content.records {
            let started = formatter.string(from: Date(timeIntervalSince1970: Double(record.setupAt) / 1000))
            html += "<tr>" + [
                started, record.caller.number, record.dialled, record.talkSeconds.map { String(format: "%.0f s", $0) } ?? "-",
                record.endedBy?.rawValue ?? (record.isOpen ? "up" : "-"), record.endStatus.map(String.init) ?? "-", record.endReason ?? "",
                record.security.rawValue,
            ].map { "<td>\(escape($0))</td>" }.joined() + "</tr>\n"
        }
        html += "</table>\n</body></html>\n"
        return html
    }

    /// Text from phones never becomes markup: the provisioning files' escaping, which also drops
    /// the control characters no document may carry.
    static func escape(_ text: String) -> String { ConfigurationText.xml(text) }
}
