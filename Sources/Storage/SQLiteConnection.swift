internal import CSQLite

#if canImport(Glibc)
import Glibc
#endif

/// One connection to an SQLite database file, set up for records that must survive a crash:
/// write-ahead log, a full sync at every commit, and a busy timeout instead of immediate
/// `SQLITE_BUSY` when another connection holds the write lock.
///
/// SQLite serializes the calls made on one connection (it is opened in its serialized threading
/// mode), so the connection may be shared; a ``SQLiteStatement`` may not.
public final class SQLiteConnection: @unchecked Sendable {
    public let path: String
    let handle: OpaquePointer

    /// Opens (creating it if needed, with `permissions`) the database at `path`. Throws if the
    /// file is not a database or the write-ahead log cannot be enabled.
    public init(path: String, permissions: mode_t = 0o600, busyTimeoutMilliseconds: Int32 = 5000) throws(SQLiteError) {
        self.path = path
        // SQLite creates the file with the process umask; create it first so a database of
        // registrations and credentials is never readable by others, not even for a moment.
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, permissions)
        guard descriptor >= 0 else {
            throw SQLiteError(code: SQLITE_CANTOPEN, message: "cannot open: \(String(cString: strerror(errno)))", file: path)
        }
        close(descriptor)
        var opened: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_NOFOLLOW
        let status = sqlite3_open_v2(path, &opened, flags, nil)
        guard status == SQLITE_OK, let opened else {
            let message = opened.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(status))
            sqlite3_close_v2(opened)
            throw SQLiteError(code: status, message: message, file: path)
        }
        handle = opened
        sqlite3_extended_result_codes(handle, 1)
        sqlite3_busy_timeout(handle, busyTimeoutMilliseconds)
        // The first statement reads the file header: a file that is not a database fails here.
        let mode = try prepare("PRAGMA journal_mode=WAL").rows().first?.first?.text
        guard mode?.lowercased() == "wal" else {
            throw SQLiteError(code: SQLITE_ERROR, message: "write-ahead log refused (journal mode is \(mode ?? "unknown"))", file: path)
        }
        // In WAL mode NORMAL would already survive a kill -9 (the log is in the kernel's page
        // cache); FULL syncs the log at every commit so a power cut, which an appliance under a
        // desk does see, cannot lose an acknowledged registration either.
        try execute("PRAGMA synchronous=FULL")
        try execute("PRAGMA foreign_keys=ON")
    }

    deinit {
        // close_v2 waits for statements still alive; they keep the connection alive anyway.
        sqlite3_close_v2(handle)
    }

    /// Runs one or more statements without parameters or results (schema, pragmas).
    public func execute(_ sql: String) throws(SQLiteError) {
        var message: UnsafeMutablePointer<CChar>?
        let status = sqlite3_exec(handle, sql, nil, nil, &message)
        guard status == SQLITE_OK else {
            let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(message)
            throw SQLiteError(code: status, message: text, file: path, statement: sql)
        }
    }

    /// Compiles one statement; keep it to run it many times.
    public func prepare(_ sql: String) throws(SQLiteError) -> SQLiteStatement {
        var statement: OpaquePointer?
        let status = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard status == SQLITE_OK, let statement else {
            throw error(status, statement: sql)
        }
        return SQLiteStatement(connection: self, handle: statement, sql: sql)
    }

    /// Runs `body` in one write transaction, committed when it returns and rolled back when it
    /// throws. `BEGIN IMMEDIATE` takes the write lock at once, so a busy database waits at the
    /// start (within the busy timeout) rather than failing halfway.
    public func transaction<Result>(_ body: () throws -> Result) throws -> Result {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            if sqlite3_get_autocommit(handle) == 0 { try? execute("ROLLBACK") }
            throw error
        }
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    public var changes: Int { Int(sqlite3_changes64(handle)) }

    func error(_ status: Int32, statement: String?) -> SQLiteError {
        SQLiteError(code: status, message: String(cString: sqlite3_errmsg(handle)), file: path, statement: statement)
    }
}
