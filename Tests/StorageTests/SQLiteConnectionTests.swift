import Foundation
import Storage
import Testing

@Suite struct SQLiteConnectionTests {
    private static func temporaryDatabase() -> String {
        NSTemporaryDirectory() + "storage-test-\(UUID().uuidString).sqlite"
    }

    private static func remove(_ path: String) {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    @Test func valuesOfEveryKindRoundTrip() throws {
        let path = Self.temporaryDatabase()
        defer { Self.remove(path) }
        let database = try SQLiteConnection(path: path)
        try database.execute("CREATE TABLE t (i INTEGER, r REAL, s TEXT, n TEXT)")
        let values: [SQLiteValue] = [.integer(Int64.min), .real(-0.125), .text("Zürich ☎️ 内线 a\u{0}b"), .null]
        try database.prepare("INSERT INTO t VALUES (?, ?, ?, ?)").run(values)
        try database.prepare("INSERT INTO t VALUES (?, ?, ?, ?)").run([.integer(Int64.max), .real(1e300), .text(""), .text("x")])
        let rows = try database.prepare("SELECT i, r, s, n FROM t ORDER BY rowid").rows()
        #expect(rows == [values, [.integer(Int64.max), .real(1e300), .text(""), .text("x")]])
    }

    @Test func databaseIsWriteAheadLoggedFullySyncedAndOwnerOnly() throws {
        let path = Self.temporaryDatabase()
        defer { Self.remove(path) }
        let database = try SQLiteConnection(path: path)
        #expect(try database.prepare("PRAGMA journal_mode").rows() == [[.text("wal")]])
        // 2 is FULL.
        #expect(try database.prepare("PRAGMA synchronous").rows() == [[.integer(2)]])
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
    }

    @Test func aStatementRunsManyTimesWithNewBindings() throws {
        let path = Self.temporaryDatabase()
        defer { Self.remove(path) }
        let database = try SQLiteConnection(path: path)
        try database.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)")
        let insert = try database.prepare("INSERT INTO t VALUES (?, ?)")
        try database.transaction {
            for key in 0..<100 { try insert.run([.integer(Int64(key)), SQLiteValue(key.isMultiple(of: 2) ? "even" : nil)]) }
        }
        let select = try database.prepare("SELECT count(*), count(v) FROM t")
        #expect(try select.rows() == [[.integer(100), .integer(50)]])
    }

    @Test func aFailedTransactionLeavesNothingBehind() throws {
        let path = Self.temporaryDatabase()
        defer { Self.remove(path) }
        let database = try SQLiteConnection(path: path)
        try database.execute("CREATE TABLE t (k INTEGER PRIMARY KEY)")
        let insert = try database.prepare("INSERT INTO t VALUES (?)")
        #expect(throws: SQLiteError.self) {
            try database.transaction {
                try insert.run([.integer(1)])
                try insert.run([.integer(1)])
            }
        }
        #expect(try database.prepare("SELECT count(*) FROM t").rows() == [[.integer(0)]])
        // The connection is usable afterwards: no transaction was left open.
        try database.transaction { try insert.run([.integer(2)]) }
        #expect(try database.prepare("SELECT k FROM t").rows() == [[.integer(2)]])
    }

    @Test func errorsCarrySQLitesMessageTheFileAndTheStatement() throws {
        let path = Self.temporaryDatabase()
        defer { Self.remove(path) }
        let database = try SQLiteConnection(path: path)
        let error = try #require(throws: SQLiteError.self) { try database.prepare("SELECT value FROM nowhere") }
        #expect(error.message == "no such table: nowhere")
        #expect(error.statement == "SELECT value FROM nowhere")
        #expect(error.description.hasPrefix(path + ": no such table: nowhere"))
        let insert = try database.prepare("SELECT ?")
        #expect(throws: SQLiteError.self) { try insert.bind([.integer(1), .integer(2)]) }
    }

    @Test func aFileThatIsNotADatabaseIsRefusedByName() throws {
        let path = Self.temporaryDatabase()
        defer { Self.remove(path) }
        let garbage = (0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 7919 &+ 13) }
        try Data(garbage).write(to: URL(fileURLWithPath: path))
        let error = try #require(throws: SQLiteError.self) { try SQLiteConnection(path: path) }
        #expect(error.file == path)
        #expect(error.message.contains("not a database"), "\(error)")
    }

    @Test func aMissingDirectoryIsAClearError() throws {
        let path = NSTemporaryDirectory() + "no-such-dir-\(UUID().uuidString)/db.sqlite"
        let error = try #require(throws: SQLiteError.self) { try SQLiteConnection(path: path) }
        #expect(error.description.contains(path))
        #expect(error.message.contains("No such file or directory"))
    }

    @Test func aSecondConnectionSeesCommittedRows() throws {
        let path = Self.temporaryDatabase()
        defer { Self.remove(path) }
        let writer = try SQLiteConnection(path: path)
        try writer.execute("CREATE TABLE t (k INTEGER)")
        let reader = try SQLiteConnection(path: path)
        try writer.transaction { try writer.prepare("INSERT INTO t VALUES (7)").run() }
        #expect(try reader.prepare("SELECT k FROM t").rows() == [[.integer(7)]])
    }
}
