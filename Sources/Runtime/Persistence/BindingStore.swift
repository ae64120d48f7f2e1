import Edge
import Storage

/// The tables behind ``SQLiteBindingJournal`` and the statements that read and write them.
/// Not thread-safe: the journal uses it from its writer queue only.
final class BindingStore {
    static let schemaVersion: Int64 = 1

    private static let schema = """
        CREATE TABLE bindings (
            address_of_record TEXT NOT NULL,
            binding_key TEXT NOT NULL,
            position INTEGER NOT NULL,
            contact TEXT NOT NULL,
            device TEXT NOT NULL,
            expires_at INTEGER NOT NULL,
            q_value INTEGER,
            instance_id TEXT,
            reg_id INTEGER,
            call_id TEXT NOT NULL,
            cseq INTEGER NOT NULL,
            transport TEXT NOT NULL,
            remote_address TEXT NOT NULL,
            remote_port INTEGER NOT NULL,
            connection INTEGER,
            path TEXT,
            user_agent TEXT,
            registered_at INTEGER NOT NULL,
            accepted_upstream INTEGER NOT NULL,
            PRIMARY KEY (address_of_record, binding_key)
        ) WITHOUT ROWID;
        CREATE INDEX bindings_by_expiry ON bindings (expires_at);
        CREATE TABLE devices (
            name TEXT PRIMARY KEY,
            position INTEGER NOT NULL,
            mac TEXT,
            display_name TEXT,
            security TEXT NOT NULL,
            digest_username TEXT,
            digest_password TEXT
        );
        CREATE TABLE device_lines (
            device TEXT NOT NULL REFERENCES devices (name) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            number TEXT NOT NULL,
            display_name TEXT,
            PRIMARY KEY (device, position)
        );
        """

    private static let bindingColumns = """
        address_of_record, binding_key, position, contact, device, expires_at, q_value, instance_id, reg_id, call_id, cseq,
        transport, remote_address, remote_port, connection, path, user_agent, registered_at, accepted_upstream
        """

    private let database: SQLiteConnection
    private let deleteAddressOfRecord: SQLiteStatement
    private let insertBinding: SQLiteStatement

    init(path: String) throws {
        database = try SQLiteConnection(path: path)
        try Self.prepareSchema(database)
        deleteAddressOfRecord = try database.prepare("DELETE FROM bindings WHERE address_of_record = ?")
        insertBinding = try database.prepare(
            "INSERT OR REPLACE INTO bindings (\(Self.bindingColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
    }

    private static func prepareSchema(_ database: SQLiteConnection) throws {
        try database.transaction {
            try database.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            let version = try database.prepare("SELECT max(version) FROM schema_version").rows().first?.first?.integer
            switch version {
            case nil:
                try database.execute(schema)
                try database.prepare("INSERT INTO schema_version VALUES (?)").run([.integer(schemaVersion)])
            case let version? where version > schemaVersion:
                throw BindingJournalError.newerSchema(file: database.path, version: version)
            default:
                break
            }
        }
    }

    /// Applies whole-set replacements in one transaction. Within a group only the last
    /// replacement of an address of record decides its rows, so earlier ones are skipped.
    func replace(_ writes: [(addressOfRecord: String, bindings: [Binding])]) throws {
        var last: [String: Int] = [:]
        for (index, write) in writes.enumerated() { last[write.addressOfRecord] = index }
        try database.transaction {
            for (index, write) in writes.enumerated() where last[write.addressOfRecord] == index {
                try deleteAddressOfRecord.run([.text(write.addressOfRecord)])
                for (position, binding) in write.bindings.enumerated() {
                    try insertBinding.run(Self.row(binding, addressOfRecord: write.addressOfRecord, position: position))
                }
            }
        }
    }

    func loadBindings() throws -> [Binding] {
        let select = try database.prepare("SELECT \(Self.bindingColumns) FROM bindings ORDER BY address_of_record, position")
        return try select.rows().map { try binding(from: $0) }
    }

    func purgeExpired(before time: Int64) throws -> Int {
        let delete = try database.prepare("DELETE FROM bindings WHERE expires_at < ?")
        return try database.transaction {
            try delete.run([.integer(time)])
            return database.changes
        }
    }

    /// Digest passwords are stored as the configuration holds them: the file is owner-only in
    /// an owner-only directory, like the configuration itself.
    func replaceInventory(_ devices: [Device]) throws {
        let insertDevice = try database.prepare(
            "INSERT INTO devices (name, position, mac, display_name, security, digest_username, digest_password) VALUES (?, ?, ?, ?, ?, ?, ?)")
        let insertLine = try database.prepare("INSERT INTO device_lines (device, position, number, display_name) VALUES (?, ?, ?, ?)")
        try database.transaction {
            try database.execute("DELETE FROM device_lines; DELETE FROM devices")
            for (position, device) in devices.enumerated() {
                try insertDevice.run([
                    .text(device.name), .integer(Int64(position)), SQLiteValue(device.mac?.description), SQLiteValue(device.displayName),
                    .text(device.security.rawValue), SQLiteValue(device.digest?.username), SQLiteValue(device.digest?.password),
                ])
                for (linePosition, line) in device.lines.enumerated() {
                    try insertLine.run([.text(device.name), .integer(Int64(linePosition)), .text(line.number), SQLiteValue(line.displayName)])
                }
            }
        }
    }

    func loadInventory() throws -> [Device] {
        var lines: [String: [DeviceLine]] = [:]
        for row in try database.prepare("SELECT device, number, display_name FROM device_lines ORDER BY device, position").rows() {
            lines[row[0].text ?? "", default: []].append(DeviceLine(number: row[1].text ?? "", displayName: row[2].text))
        }
        let select = try database.prepare(
            "SELECT name, mac, display_name, security, digest_username, digest_password FROM devices ORDER BY position")
        return try select.rows().map { row in
            let name = row[0].text ?? ""
            guard let security = row[3].text.flatMap(SecurityProfile.init(rawValue:)) else {
                throw BindingJournalError.unreadableRow(file: database.path, addressOfRecord: name, reason: "unknown security profile")
            }
            var digest: DigestAccount?
            if let username = row[4].text, let password = row[5].text { digest = DigestAccount(username: username, password: password) }
            return Device(
                name: name, mac: row[1].text.flatMap { MACAddress($0) }, lines: lines[name] ?? [], displayName: row[2].text,
                security: security, digest: digest)
        }
    }

    private static func row(_ binding: Binding, addressOfRecord: String, position: Int) -> [SQLiteValue] {
        [
            .text(addressOfRecord), .text(binding.key), .integer(Int64(position)), .text(binding.contact), .text(binding.device),
            .integer(binding.expiresAt), SQLiteValue(binding.qValue), SQLiteValue(binding.instanceID), SQLiteValue(binding.regID),
            .text(binding.callID), .integer(Int64(binding.cseq)), .text(binding.flow.transport.rawValue), .text(binding.flow.remoteAddress),
            .integer(Int64(binding.flow.remotePort)), SQLiteValue(binding.flow.connection.map { Int64(bitPattern: $0) }),
            SQLiteValue(PathColumn.encode(binding.path)), SQLiteValue(binding.userAgent), .integer(binding.registeredAt),
            SQLiteValue(binding.acceptedUpstream),
        ]
    }

    private func binding(from row: [SQLiteValue]) throws -> Binding {
        let addressOfRecord = row[0].text ?? ""
        func unreadable(_ reason: String) -> BindingJournalError {
            .unreadableRow(file: database.path, addressOfRecord: addressOfRecord, reason: reason)
        }
        guard let transport = row[11].text.flatMap(BindingFlow.Transport.init(rawValue:)) else { throw unreadable("unknown transport") }
        guard let cseq = row[10].integer.flatMap(UInt32.init(exactly:)) else { throw unreadable("CSeq out of range") }
        return Binding(
            addressOfRecord: addressOfRecord, contact: row[3].text ?? "", device: row[4].text ?? "", expiresAt: row[5].integer ?? 0,
            qValue: row[6].integer.map(Int.init), instanceID: row[7].text, regID: row[8].integer.map(Int.init),
            callID: row[9].text ?? "", cseq: cseq,
            flow: BindingFlow(
                transport: transport, remoteAddress: row[12].text ?? "", remotePort: Int(row[13].integer ?? 0),
                connection: row[14].integer.map { UInt64(bitPattern: $0) }),
            path: PathColumn.decode(row[15].text), userAgent: row[16].text, registeredAt: row[17].integer ?? 0,
            acceptedUpstream: row[18].integer == 1)
    }
}

/// A Path route set in one column: entries separated by a line feed, which a header value
/// cannot contain; backslash escapes keep any string whole anyway. nil is the empty set, so
/// `[]` and `[""]` stay apart. Works on Unicode scalars: as Characters, "\r\n" is one.
enum PathColumn {
    static func encode(_ path: [String]) -> String? {
        guard !path.isEmpty else { return nil }
        var encoded = String.UnicodeScalarView()
        for (index, entry) in path.enumerated() {
            if index > 0 { encoded.append("\n") }
            for scalar in entry.unicodeScalars {
                switch scalar {
                case "\\": encoded.append(contentsOf: "\\\\".unicodeScalars)
                case "\n": encoded.append(contentsOf: "\\n".unicodeScalars)
                default: encoded.append(scalar)
                }
            }
        }
        return String(encoded)
    }

    static func decode(_ text: String?) -> [String] {
        guard let text else { return [] }
        var entries: [String] = []
        var entry = String.UnicodeScalarView()
        var escaped = false
        for scalar in text.unicodeScalars {
            if escaped {
                entry.append(scalar == "n" ? "\n" : scalar)
                escaped = false
            } else if scalar == "\\" {
                escaped = true
            } else if scalar == "\n" {
                entries.append(String(entry))
                entry = String.UnicodeScalarView()
            } else {
                entry.append(scalar)
            }
        }
        entries.append(String(entry))
        return entries
    }
}
