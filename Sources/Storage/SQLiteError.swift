/// A failed SQLite call, with SQLite's own message, the database file and the statement.
public struct SQLiteError: Error, Sendable, Equatable, CustomStringConvertible {
    /// SQLite's extended result code (`SQLITE_BUSY` is 5, `SQLITE_NOTADB` 26, …).
    public let code: Int32
    /// `sqlite3_errmsg` at the time of the failure.
    public let message: String
    public let file: String
    /// The SQL that failed, when a statement was involved.
    public let statement: String?

    public init(code: Int32, message: String, file: String, statement: String? = nil) {
        self.code = code
        self.message = message
        self.file = file
        self.statement = statement
    }

    public var description: String {
        var text = "\(file): \(message) (SQLite code \(code))"
        if let statement { text += " in: \(statement)" }
        return text
    }
}
