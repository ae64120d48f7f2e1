import ArgumentParser
import Edge
import Foundation
import Runtime

// `outpost cdr list|show|export`: the call records in the state directory's calls.sqlite, read
// beside a running edge (SQLite's WAL lets a reader in while the edge writes).

struct CDR: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cdr", abstract: "Call detail records: list, show one, or export.", subcommands: [CDRList.self, CDRShow.self, CDRExport.self])
}

struct CDRRangeOptions: ParsableArguments {
    @Option(help: "Calls set up at or after this time: 2026-12-04T10:00:00Z, 2026-12-04 (UTC), or 30m, 2h, 7d ago.")
    var since: String?

    @Option(help: "Calls set up before this time, in the same forms.")
    var until: String?

    @OptionGroup var configuration: ConfigurationOptions

    func open() throws -> SQLiteCallRecords {
        let directory = try configuration.load().stateDirectory
        do { return try SQLiteCallRecords.openExisting(stateDirectory: directory) } catch { throw ValidationError("\(error)") }
    }

    func range(now: Date = Date()) throws -> (since: Int64?, until: Int64?) {
        do {
            return (try since.map { try CallRecordText.time($0, now: now) }, try until.map { try CallRecordText.time($0, now: now) })
        } catch {
            throw ValidationError("\(error)")
        }
    }
}

struct CDRList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "The latest calls, newest first.")
    @OptionGroup var range: CDRRangeOptions
    @Option(help: "At most this many calls.") var limit = 50
    @Flag(help: "JSON instead of a table.") var json = false

    func run() throws {
        let (since, until) = try range.range()
        let records = try range.open().records(since: since, until: until, limit: max(1, limit))
        print(json ? CallRecordText.json(records) : CallRecordText.table(records), terminator: "")
    }
}

struct CDRShow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "One call with its legs, by id, id prefix or SIP Call-ID.")
    @Argument(help: "The call's id (at least 6 characters of it) or its Call-ID.") var id: String
    @OptionGroup var configuration: ConfigurationOptions
    @Flag(help: "JSON instead of text.") var json = false

    func run() throws {
        let directory = try configuration.load().stateDirectory
        let found: CallRecord?
        do { found = try SQLiteCallRecords.openExisting(stateDirectory: directory).record(id: id) } catch { throw ValidationError("\(error)") }
        guard let record = found else { throw ValidationError("no call record matches '\(id)'") }
        print(json ? CallRecordText.json([record]) : CallRecordText.detail(record), terminator: "")
    }
}

struct CDRExport: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "export", abstract: "Every call in the range as CSV (RFC 4180) or JSON.")
    @OptionGroup var range: CDRRangeOptions
    @Flag(help: "CSV with a header line (the default).") var csv = false
    @Flag(help: "JSON, one array of records with their legs.") var json = false

    func validate() throws {
        if csv && json { throw ValidationError("choose one of --csv and --json") }
    }

    func run() throws {
        let (since, until) = try range.range()
        let records = try range.open().records(since: since, until: until, limit: nil)
        print(json ? CallRecordText.json(records) : CallRecordText.csv(records), terminator: "")
    }
}

/// How call records read on a terminal and in files; pure, so it is tested on its own.
enum CallRecordText {
    struct TimeError: Error, CustomStringConvertible {
        let text: String
        var description: String { "'\(text)' is not a time: give 2026-12-04T10:00:00Z, 2026-12-04, or an age such as 30m, 2h or 7d" }
    }

    /// Milliseconds since 1970 for an ISO 8601 time, a UTC date, or an age before `now`.
    static func time(_ text: String, now: Date) throws(TimeError) -> Int64 {
        if let last = text.last, let unit = ["s": 1.0, "m": 60, "h": 3_600, "d": 86_400][String(last)], let count = Int(text.dropLast()), count >= 0,
            count < 100_000
        {
            return Int64(((now.timeIntervalSince1970 - Double(count) * unit) * 1000).rounded())
        }
        let full = ISO8601DateFormatter()
        if let date = full.date(from: text) { return Int64((date.timeIntervalSince1970 * 1000).rounded()) }
        let day = ISO8601DateFormatter()
        day.formatOptions = [.withFullDate]
        if text.count == 10, let date = day.date(from: text) { return Int64((date.timeIntervalSince1970 * 1000).rounded()) }
        throw TimeError(text: text)
    }

    static func timestamp(_ milliseconds: Int64?) -> String {
        guard let milliseconds else { return "" }
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }

    static func result(_ record: CallRecord) -> String {
        guard let status = record.endStatus else { return record.isOpen ? "up" : "-" }
        return "\(status)" + (record.q850Cause.map { "/Q.850 \($0)" } ?? "")
    }

    static func duration(_ record: CallRecord) -> String {
        guard let seconds = record.talkSeconds else { return "-" }
        let whole = Int(seconds.rounded())
        return String(format: "%d:%02d", whole / 60, whole % 60)
    }

    static func table(_ records: [CallRecord]) -> String {
        var table = TextTable(headers: ["id", "set up (UTC)", "talk", "caller", "callee", "dialled", "result", "ended by", "security"])
        for record in records {
            table.append([
                String(record.id.prefix(12)), timestamp(record.setupAt), duration(record), record.caller.number, record.callee.number, record.dialled,
                result(record), record.endedBy?.rawValue ?? "", record.security.rawValue,
            ])
        }
        return "\(records.count) call\(records.count == 1 ? "" : "s")\n" + table.render()
    }

    static func detail(_ record: CallRecord) -> String {
        func party(_ party: CallParty) -> String {
            [party.displayName.map { "\"\($0)\"" }, party.number, party.device.map { "(\($0))" }].compactMap { $0 }.joined(separator: " ")
        }
        var lines = [
            "call \(record.id)", "  Call-ID \(record.callID)", "  caller \(party(record.caller))", "  callee \(party(record.callee))",
            "  dialled \(record.dialled) via \(record.route) in \(record.mode) mode", "  set up \(timestamp(record.setupAt))",
            "  ringing \(timestamp(record.ringingAt))", "  answered \(timestamp(record.answeredAt))", "  ended \(timestamp(record.endedAt))",
            "  talk \(duration(record)), result \(result(record)), ended by \(record.endedBy?.rawValue ?? "-"): \(record.endReason ?? "-")",
            "  security \(record.security.rawValue)",
        ]
        if let otherHalf = record.otherHalf { lines.append("  the other half, through the call manager: \(otherHalf)") }
        for leg in record.legs {
            var line = "  leg \(leg.role.rawValue) \(leg.device ?? "-") \(leg.transport) \(leg.remote) \(leg.suite ?? "RTP") \(leg.codec ?? "-")"
            if let quality = leg.quality {
                line += String(
                    format: ": rx %llu tx %llu lost %lld jitter %.1f ms, auth failures %llu", quality.packetsReceived, quality.packetsSent,
                    quality.lost, quality.jitterMilliseconds, quality.authenticationFailures)
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func json(_ records: [CallRecord]) -> String { ControlJSON.encode(records) }

    static let csvHeader = [
        "id", "call_id", "caller_number", "caller_device", "caller_display_name", "callee_number", "callee_device", "dialled", "route", "mode",
        "setup_at", "ringing_at", "answered_at", "ended_at", "talk_seconds", "ended_by", "end_status", "q850_cause", "end_reason", "security",
        "caller_transport", "caller_suite", "caller_packets_received", "caller_lost", "caller_jitter_ms", "callee_transport", "callee_suite",
        "callee_packets_received", "callee_lost", "callee_jitter_ms", "other_half",
    ]

    /// RFC 4180: a header line, CRLF line ends, fields with a comma, quote or line break quoted and their quotes doubled.
    static func csv(_ records: [CallRecord]) -> String {
        var output = csvHeader.map(csvField).joined(separator: ",") + "\r\n"
        for record in records {
            func leg(_ role: CallLegRecord.Role) -> [String] {
                guard let leg = record.legs.first(where: { $0.role == role }) else { return ["", "", "", "", ""] }
                return [
                    leg.transport, leg.suite ?? "", leg.quality.map { "\($0.packetsReceived)" } ?? "", leg.quality.map { "\($0.lost)" } ?? "",
                    leg.quality.map { String(format: "%.2f", $0.jitterMilliseconds) } ?? "",
                ]
            }
            let fields: [String] =
                [
                    record.id, record.callID, record.caller.number, record.caller.device ?? "", record.caller.displayName ?? "", record.callee.number,
                    record.callee.device ?? "", record.dialled, record.route, record.mode, timestamp(record.setupAt), timestamp(record.ringingAt),
                    timestamp(record.answeredAt), timestamp(record.endedAt), record.talkSeconds.map { String(format: "%.1f", $0) } ?? "",
                    record.endedBy?.rawValue ?? "", record.endStatus.map(String.init) ?? "", record.q850Cause.map(String.init) ?? "",
                    record.endReason ?? "", record.security.rawValue,
                ] + leg(.caller) + leg(.callee) + [record.otherHalf ?? ""]
            output += fields.map(csvField).joined(separator: ",") + "\r\n"
        }
        return output
    }

    static func csvField(_ value: String) -> String {
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
