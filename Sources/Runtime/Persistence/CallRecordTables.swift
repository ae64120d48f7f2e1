import Edge
import Storage

/// The tables behind ``SQLiteCallRecords`` and the statements that read and write them.
/// Not thread-safe: the store uses it from its queue only.
final class CallRecordTables {
    /// `PRAGMA user_version` of the schema below; 0 is a file this edge has not set up yet.
    static let schemaVersion: Int64 = 3
    /// The last time the edge said it was alive, by which the calls it dies with are closed.
    private static let aliveTable = "CREATE TABLE edge_alive (id INTEGER PRIMARY KEY CHECK (id = 1), at INTEGER NOT NULL);"
    private static let otherHalfColumn = "ALTER TABLE calls ADD COLUMN other_half TEXT;"

    private static let schema = """
        CREATE TABLE calls (
            id TEXT PRIMARY KEY,
            call_id TEXT NOT NULL,
            caller_device TEXT,
            caller_line TEXT,
            caller_number TEXT NOT NULL,
            caller_display_name TEXT,
            callee_device TEXT,
            callee_line TEXT,
            callee_number TEXT NOT NULL,
            callee_display_name TEXT,
            dialled TEXT NOT NULL,
            route TEXT NOT NULL,
            mode TEXT NOT NULL,
            setup_at INTEGER NOT NULL,
            ringing_at INTEGER,
            answered_at INTEGER,
            ended_at INTEGER,
            ended_by TEXT,
            end_status INTEGER,
            q850_cause INTEGER,
            end_reason TEXT,
            security TEXT NOT NULL,
            other_half TEXT
        );
        CREATE INDEX calls_by_setup ON calls (setup_at);
        CREATE INDEX calls_by_call_id ON calls (call_id);
        CREATE INDEX calls_open ON calls (id) WHERE ended_at IS NULL;
        CREATE TABLE call_legs (
            call TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            role TEXT NOT NULL,
            device TEXT,
            transport TEXT NOT NULL,
            remote TEXT NOT NULL,
            suite TEXT,
            codec TEXT,
            packets_received INTEGER,
            packets_sent INTEGER,
            lost INTEGER,
            jitter_ms REAL,
            authentication_failures INTEGER,
            wrong_source INTEGER,
            peer_fraction_lost REAL,
            peer_jitter_ms REAL,
            encrypted INTEGER,
            PRIMARY KEY (call, position)
        ) WITHOUT ROWID;
        """

    private static let callColumnNames = [
        "id", "call_id", "caller_device", "caller_line", "caller_number", "caller_display_name", "callee_device", "callee_line",
        "callee_number", "callee_display_name", "dialled", "route", "mode", "setup_at", "ringing_at", "answered_at", "ended_at",
        "ended_by", "end_status", "q850_cause", "end_reason", "security", "other_half",
    ]
    private static let callColumns = callColumnNames.joined(separator: ", ")

    private static let legColumnNames = [
        "call", "position", "role", "device", "transport", "remote", "suite", "codec", "packets_received", "packets_sent", "lost",
        "jitter_ms", "authentication_failures", "wrong_source", "peer_fraction_lost", "peer_jitter_ms", "encrypted",
    ]
    private static let legColumns = legColumnNames.joined(separator: ", ")

    let path: String
    private let database: SQLiteConnection
    private let upsertCall: SQLiteStatement
    private let deleteLegs: SQLiteStatement
    private let insertLeg: SQLiteStatement
    private let selectLegs: SQLiteStatement

    init(path: String) throws {
        self.path = path
        database = try SQLiteConnection(path: path)
        try Self.prepareSchema(database)
        let updates = Self.callColumnNames.dropFirst().map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
        upsertCall = try database.prepare(
            """
            INSERT INTO calls (\(Self.callColumns)) VALUES (\(Self.placeholders(Self.callColumnNames.count)))
            ON CONFLICT (id) DO UPDATE SET \(updates)
            """)
        deleteLegs = try database.prepare("DELETE FROM call_legs WHERE call = ?")
        insertLeg = try database.prepare("INSERT INTO call_legs (\(Self.legColumns)) VALUES (\(Self.placeholders(Self.legColumnNames.count)))")
        selectLegs = try database.prepare("SELECT \(Self.legColumns) FROM call_legs WHERE call = ? ORDER BY position")
    }

    private static func placeholders(_ count: Int) -> String {
        Array(repeating: "?", count: count).joined(separator: ", ")
    }

    private static func prepareSchema(_ database: SQLiteConnection) throws {
        try database.transaction {
            let version = try database.prepare("PRAGMA user_version").rows().first?.first?.integer ?? 0
            switch version {
            case 0:
                try database.execute(schema + aliveTable)
                // PRAGMA takes no bound parameters; the version is our own constant.
                try database.execute("PRAGMA user_version = \(schemaVersion)")
            case 1:
                try database.execute(aliveTable + otherHalfColumn)
                try database.execute("PRAGMA user_version = \(schemaVersion)")
            case 2:
                try database.execute(otherHalfColumn)
                try database.execute("PRAGMA user_version = \(schemaVersion)")
            case schemaVersion:
                break
            default:
                throw CallRecordsError.unknownSchema(file: database.path, version: version)
            }
        }
    }

    /// Replaces the record with the same id, its legs included, in one transaction.
    /// Writes `records` in order in one transaction: one commit, one fsync, for all of them.
    func upsert(_ records: [CallRecord]) throws {
        try database.transaction {
            for record in records {
                try upsertCall.run(Self.row(record))
                try deleteLegs.run([.text(record.id)])
                for (position, leg) in record.legs.enumerated() {
                    try insertLeg.run(Self.row(leg, call: record.id, position: position))
                }
            }
        }
    }

    /// Ends every open record as `.restart` at `endedAt` (never before it was set up or
    /// answered), with Q.850 cause 41, temporary failure; returns their ids.
    func closeOpenRecords(endedAt: Int64, reason: String) throws -> [String] {
        try database.transaction {
            let open = try database.prepare("SELECT id FROM calls WHERE ended_at IS NULL ORDER BY setup_at, id").rows()
                .compactMap { $0.first?.text }
            try database.prepare(
                """
                UPDATE calls SET ended_at = MAX(?1, setup_at, COALESCE(answered_at, setup_at)), ended_by = ?2, end_reason = ?3,
                    q850_cause = COALESCE(q850_cause, 41)
                WHERE ended_at IS NULL
                """
            ).run([.integer(endedAt), .text(CallEndedBy.restart.rawValue), .text(reason)])
            return open
        }
    }

    func markAlive(at time: Int64) throws {
        try database.prepare("INSERT INTO edge_alive (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at").run([.integer(time)])
    }

    func lastAlive() throws -> Int64? {
        try database.prepare("SELECT at FROM edge_alive WHERE id = 1").rows().first?.first?.integer
    }

    /// Records whose setup lies in `since ..< until`, newest first.
    func records(since: Int64?, until: Int64?, limit: Int?) throws -> [CallRecord] {
        let select = try database.prepare(
            """
            SELECT \(Self.callColumns) FROM calls WHERE (?1 IS NULL OR setup_at >= ?1) AND (?2 IS NULL OR setup_at < ?2)
            ORDER BY setup_at DESC, id DESC LIMIT ?3
            """)
        // A negative LIMIT is SQLite's "no limit".
        let rows = try select.rows([SQLiteValue(since), SQLiteValue(until), .integer(limit.map(Int64.init) ?? -1)])
        return try rows.map(record(from:))
    }

    /// The records whose id is exactly `text`, or whose Call-ID is, or (when `matchingPrefix`)
    /// whose id starts with it: the most specific kind that matches anything.
    func records(identifiedBy text: String, matchingPrefix: Bool) throws -> [CallRecord] {
        let byID = try database.prepare("SELECT \(Self.callColumns) FROM calls WHERE id = ?").rows([.text(text)])
        if !byID.isEmpty { return try byID.map(record(from:)) }
        let byCallID = try database.prepare("SELECT \(Self.callColumns) FROM calls WHERE call_id = ? ORDER BY setup_at DESC, id DESC")
            .rows([.text(text)])
        if !byCallID.isEmpty || !matchingPrefix { return try byCallID.map(record(from:)) }
        // substr, not LIKE: an id prefix with % or _ in it must match only itself.
        let byPrefix = try database.prepare(
            "SELECT \(Self.callColumns) FROM calls WHERE substr(id, 1, length(?1)) = ?1 ORDER BY setup_at DESC, id DESC")
        return try byPrefix.rows([.text(text)]).map(record(from:))
    }

    private static func row(_ record: CallRecord) -> [SQLiteValue] {
        [
            .text(record.id), .text(record.callID), SQLiteValue(record.caller.device), SQLiteValue(record.caller.line),
            .text(record.caller.number), SQLiteValue(record.caller.displayName), SQLiteValue(record.callee.device),
            SQLiteValue(record.callee.line), .text(record.callee.number), SQLiteValue(record.callee.displayName), .text(record.dialled),
            .text(record.route), .text(record.mode), .integer(record.setupAt), SQLiteValue(record.ringingAt),
            SQLiteValue(record.answeredAt), SQLiteValue(record.endedAt), SQLiteValue(record.endedBy?.rawValue),
            SQLiteValue(record.endStatus), SQLiteValue(record.q850Cause), SQLiteValue(record.endReason),
            .text(record.security.rawValue), SQLiteValue(record.otherHalf),
        ]
    }

    /// Counters are UInt64; SQLite integers are signed, so they are stored as their bit pattern.
    private static func row(_ leg: CallLegRecord, call: String, position: Int) -> [SQLiteValue] {
        let quality = leg.quality
        func counter(_ value: UInt64?) -> SQLiteValue { SQLiteValue(value.map { Int64(bitPattern: $0) }) }
        return [
            .text(call), .integer(Int64(position)), .text(leg.role.rawValue), SQLiteValue(leg.device), .text(leg.transport),
            .text(leg.remote), SQLiteValue(leg.suite), SQLiteValue(leg.codec), counter(quality?.packetsReceived),
            counter(quality?.packetsSent), SQLiteValue(quality?.lost), SQLiteValue(quality?.jitterMilliseconds),
            counter(quality?.authenticationFailures), counter(quality?.wrongSource), SQLiteValue(quality?.peerReportedFractionLost),
            SQLiteValue(quality?.peerReportedJitterMilliseconds), quality.map { SQLiteValue($0.encrypted) } ?? .null,
        ]
    }

    private func record(from row: [SQLiteValue]) throws -> CallRecord {
        let id = row[0].text ?? ""
        func unreadable(_ reason: String) -> CallRecordsError { .unreadableRecord(file: path, id: id, reason: reason) }
        guard let security = row[21].text.flatMap(CallSecurity.init(rawValue:)) else { throw unreadable("unknown security level") }
        var endedBy: CallEndedBy?
        if let text = row[17].text {
            guard let value = CallEndedBy(rawValue: text) else { throw unreadable("unknown ended-by '\(text)'") }
            endedBy = value
        }
        return CallRecord(
            id: id, callID: row[1].text ?? "",
            caller: CallParty(device: row[2].text, line: row[3].text, number: row[4].text ?? "", displayName: row[5].text),
            callee: CallParty(device: row[6].text, line: row[7].text, number: row[8].text ?? "", displayName: row[9].text),
            dialled: row[10].text ?? "", route: row[11].text ?? "", mode: row[12].text ?? "", legs: try legs(of: id),
            setupAt: row[13].integer ?? 0, ringingAt: row[14].integer, answeredAt: row[15].integer, endedAt: row[16].integer,
            endedBy: endedBy, endStatus: row[18].integer.map(Int.init), q850Cause: row[19].integer.map(Int.init), endReason: row[20].text,
            security: security, otherHalf: row[22].text)
    }

    private func legs(of call: String) throws -> [CallLegRecord] {
        try selectLegs.rows([.text(call)]).map { row in
            guard let role = row[2].text.flatMap(CallLegRecord.Role.init(rawValue:)) else {
                throw CallRecordsError.unreadableRecord(file: path, id: call, reason: "leg \(row[1].integer ?? -1) has an unknown role")
            }
            var quality: MediaLegQuality?
            // SQLite stores a NaN as NULL, so a NaN jitter must not make the whole measurement vanish.
            if let received = row[8].integer, let sent = row[9].integer, let lost = row[10].integer,
                let authenticationFailures = row[12].integer, let wrongSource = row[13].integer, let encrypted = row[16].integer
            {
                let jitter = row[11].real ?? .nan
                quality = MediaLegQuality(
                    packetsReceived: UInt64(bitPattern: received), packetsSent: UInt64(bitPattern: sent), lost: lost,
                    jitterMilliseconds: jitter, authenticationFailures: UInt64(bitPattern: authenticationFailures),
                    wrongSource: UInt64(bitPattern: wrongSource), peerReportedFractionLost: row[14].real,
                    peerReportedJitterMilliseconds: row[15].real, encrypted: encrypted == 1)
            }
            return CallLegRecord(
                role: role, device: row[3].text, transport: row[4].text ?? "", remote: row[5].text ?? "", suite: row[6].text,
                codec: row[7].text, quality: quality)
        }
    }
}
