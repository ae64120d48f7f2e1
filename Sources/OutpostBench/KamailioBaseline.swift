import CSQLite
import Foundation
import NIOCore
import PKI
import TLS

#if canImport(Glibc)
import Glibc
#endif

/// The baseline of `outpost bench register`: Kamailio, a well-known C registrar, on this machine,
/// doing the edge's work under the same load generator. Over UDP it authenticates every REGISTER
/// by digest (MD5, qop=auth, nonce counts checked: the edge's rules) with the auth module; over
/// TLS it requires and verifies the client certificate and accepts only the bench device's, with
/// no digest — as the edge does. Its usrloc keeps bindings in memory, or writes each one through
/// to SQLite before the 200 (`db_mode` 1, WRITE-THROUGH), the edge's durability. The bench runs
/// outside the test tree, so the configuration is embedded here.
public struct KamailioBaseline: Sendable {
    public enum Storage: String, Sendable, CaseIterable {
        /// usrloc `db_mode` 0: bindings in shared memory only, lost on restart.
        case memory
        /// usrloc `db_mode` 1: each binding written through to SQLite (db_sqlite, Kamailio's own
        /// schema) before the reply.
        case sqliteWriteThrough

        public var label: String {
            switch self {
            case .memory: "usrloc in memory (db_mode 0)"
            case .sqliteWriteThrough: "usrloc write-through SQLite (db_mode 1)"
            }
        }
    }

    /// The digest password of every bench user, the edge's and Kamailio's.
    public static let digestPassword = "bench"
    /// The client certificate's name, the one device whose lines TLS REGISTERs may bind.
    public static let deviceName = "SEP001122334455"

    /// Kamailio's UDP receiver processes, in memory. Written through to SQLite, one: db_sqlite
    /// 5.6 sets no busy timeout (and its `db_set_journal_mode` takes a key=value list, so none can
    /// be slipped in), and a second process writing at the same time fails with "database is
    /// locked" and a 500 — SQLite has one writer anyway, as the edge's journal has one thread.
    public let children: Int
    /// Kamailio's TCP/TLS worker processes. One connection is served by one worker at a time, and
    /// more workers only pass it around between them: on one TLS connection, one is fastest.
    public let tcpChildren: Int

    public init(children: Int = 2, tcpChildren: Int = 1) {
        self.children = children
        self.tcpChildren = tcpChildren
    }

    /// A started Kamailio; `stop()` kills it and removes its directory.
    public final class Instance: @unchecked Sendable {
        public let storage: Storage
        /// UDP receiver processes.
        public let children: Int
        public let udpTarget: SocketAddress
        public let tlsTarget: SocketAddress
        let process: KamailioProcess
        let directory: String
        /// The SQLite file of `.sqliteWriteThrough`.
        let databasePath: String?

        init(
            storage: Storage, children: Int, udpTarget: SocketAddress, tlsTarget: SocketAddress, process: KamailioProcess, directory: String,
            databasePath: String?
        ) {
            self.storage = storage
            self.children = children
            self.udpTarget = udpTarget
            self.tlsTarget = tlsTarget
            self.process = process
            self.directory = directory
            self.databasePath = databasePath
        }

        public func target(_ transport: RegisterLoadTransport) -> SocketAddress { transport == .udp ? udpTarget : tlsTarget }

        public var log: String { process.log }

        /// Rows in the `location` table; nil in memory.
        public func storedBindings() -> Int? {
            guard let databasePath else { return nil }
            return try? SQLiteFile(path: databasePath).integer("SELECT count(*) FROM location")
        }

        /// Lines of Kamailio's log at ERROR or above (a failed database write among them): usrloc
        /// answers 200 even when its write-through fails, so they are counted and reported.
        /// Those at start-up (Kamailio 5.6 logs one from tm's loader) are left out.
        public var errorLines: [Substring] { Array(Self.errors(in: log).dropFirst(startupErrors)) }
        var startupErrors = 0

        static func errors(in log: String) -> [Substring] {
            log.split(separator: "\n").filter { $0.contains("ERROR:") || $0.contains("CRITICAL:") || $0.contains("BUG:") }
        }

        public func stop() {
            process.stop()
            try? FileManager.default.removeItem(atPath: directory)
        }

        deinit { stop() }
    }

    /// Starts Kamailio in `directory` (removed again by `stop()`) with the bench's PKI, and waits
    /// until it answers an authenticated REGISTER.
    func start(_ storage: Storage, files: BenchmarkPKI.Files, directory: String) async throws -> Instance {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var databasePath: String?
        let children = storage == .sqliteWriteThrough ? 1 : children
        var defines = ["TLS_CONFIG=\"\(directory)/tls.cfg\"", "CHILDREN=\(children)", "TCP_CHILDREN=\(tcpChildren)",
                       "PASSWORD=\"\(Self.digestPassword)\"", "DEVICE=\"\(Self.deviceName)\""]
        if storage == .sqliteWriteThrough {
            let path = directory + "/kamailio.sqlite"
            try Self.createDatabase(path)
            databasePath = path
            // Four slashes: db_sqlite takes what follows "sqlite:///" as the path, here absolute,
            // and matches db_set_journal_mode's key against that path.
            defines += ["WITH_SQLITE", "DB_URL=\"sqlite:///\(path)\"", "DB_JOURNAL_MODE=\"\(path)=WAL\""]
        }
        try Self.configuration.write(toFile: directory + "/kamailio.cfg", atomically: true, encoding: .utf8)
        try Self.tlsConfiguration(files).write(toFile: directory + "/tls.cfg", atomically: true, encoding: .utf8)
        let udpPort = try FreePort.pick()
        let tlsPort = try FreePort.pick()
        let process: KamailioProcess
        do {
            process = try KamailioProcess(
                configurationFile: directory + "/kamailio.cfg",
                listeners: ["udp:127.0.0.1:\(udpPort)", "tls:127.0.0.1:\(tlsPort)"],
                defines: defines, workDirectory: directory + "/run")
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
        let instance = Instance(
            storage: storage, children: children, udpTarget: try SocketAddress(ipAddress: "127.0.0.1", port: udpPort),
            tlsTarget: try SocketAddress(ipAddress: "127.0.0.1", port: tlsPort), process: process, directory: directory,
            databasePath: databasePath)
        do {
            try await Self.waitUntilAnswering(instance.udpTarget, process)
            // Without credentials, the UDP REGISTER must be refused: digest really is on.
            let bare = try await RegisterLoadGenerator.run(
                target: instance.udpTarget, transport: .udp, users: 1, requests: 1, window: 1, requestTimeout: .seconds(2))
            guard bare.failedByStatus[401] == 1 else {
                throw BenchmarkError(reason: "kamailio answered a REGISTER without credentials with \(bare), not 401")
            }
            instance.startupErrors = Instance.errors(in: process.log).count
        } catch {
            instance.stop()
            throw error
        }
        return instance
    }

    /// Kamailio's own SQLite schema as Debian ships it (`kamdbctl create` runs the same scripts):
    /// the `version` table, then usrloc's `location` tables.
    static let schemaDirectory = "/usr/share/kamailio/db_sqlite"

    static func createDatabase(_ path: String) throws {
        var script = ""
        for name in ["standard-create.sql", "usrloc-create.sql"] {
            let file = schemaDirectory + "/" + name
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw BenchmarkError(reason: "\(file) is missing; appliance/install-deps installs kamailio-sqlite-modules")
            }
            script += text + "\n"
        }
        let database = try SQLiteFile(path: path)
        try database.execute(script)
    }

    /// The synchronous mode SQLite gives a WAL connection that never sets one, as db_sqlite's
    /// (which sets only the journal mode): SQLite's compiled-in default, from the same library.
    static func defaultWALSynchronous(scratch: String) -> String {
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        guard let file = try? SQLiteFile(path: scratch), (try? file.execute("PRAGMA journal_mode=WAL")) != nil,
              let value = try? file.integer("PRAGMA synchronous") else { return "unknown" }
        return ["OFF", "NORMAL", "FULL", "EXTRA"].indices.contains(value) ? ["OFF", "NORMAL", "FULL", "EXTRA"][value] : "\(value)"
    }

    /// Kamailio answers REGISTER once all its processes are up; until then a request may vanish.
    private static func waitUntilAnswering(_ target: SocketAddress, _ kamailio: KamailioProcess) async throws {
        let deadline = ContinuousClock.now + .seconds(15)
        var last: RegisterLoadResult?
        while ContinuousClock.now < deadline {
            guard kamailio.isRunning else { throw BenchmarkError(reason: "kamailio exited: \(kamailio.log.suffix(2000))") }
            let probe = try await RegisterLoadGenerator.run(
                target: target, transport: .udp, users: 1, requests: 1, window: 1, requestTimeout: .milliseconds(300),
                digestPassword: digestPassword)
            if probe.succeeded == 1 { return }
            last = probe
        }
        throw BenchmarkError(reason: "kamailio did not answer REGISTER with 200 within 15 s (\(last.map { "\($0)" } ?? "")): \(kamailio.log.suffix(2000))")
    }

    static func tlsConfiguration(_ files: BenchmarkPKI.Files) -> String {
        """
        [server:default]
        method = TLSv1.2+
        verify_certificate = yes
        require_certificate = yes
        certificate = \(files.server.certificateChainPath ?? "")
        private_key = \(files.server.privateKeyPath ?? "")
        ca_list = \(files.caCertificate)

        """
    }

    /// A registrar and nothing else: every REGISTER authenticated (digest over UDP, the client
    /// certificate over TLS) and saved, everything else refused. Listeners, TLS profile file,
    /// worker counts and storage come from the command line.
    static let configuration = """
        #!KAMAILIO
        debug=1
        log_stderror=yes
        children=CHILDREN
        tcp_children=TCP_CHILDREN
        auto_aliases=no
        dns=no
        rev_dns=no
        use_dns_cache=off
        enable_tls=yes
        tcp_connection_lifetime=3605

        loadmodule "kex.so"
        loadmodule "ctl.so"
        loadmodule "sl.so"
        loadmodule "tm.so"
        loadmodule "maxfwd.so"
        loadmodule "textops.so"
        loadmodule "pv.so"
        #!ifdef WITH_SQLITE
        loadmodule "db_sqlite.so"
        #!endif
        loadmodule "usrloc.so"
        loadmodule "registrar.so"
        loadmodule "auth.so"
        loadmodule "tls.so"
        modparam("tls", "config", TLS_CONFIG)
        modparam("ctl", "binrpc", CTL_SOCKET)
        # The edge's digest rules: qop=auth, each nonce's nc must grow (phones reuse a nonce).
        modparam("auth", "qop", "auth")
        modparam("auth", "nonce_count", 1)
        #!ifdef WITH_SQLITE
        # WAL like the edge's journal; db_sqlite has no synchronous setting, so SQLite's default holds.
        modparam("db_sqlite", "db_set_journal_mode", DB_JOURNAL_MODE)
        modparam("usrloc", "db_url", DB_URL)
        modparam("usrloc", "db_mode", 1)
        #!else
        modparam("usrloc", "db_mode", 0)
        #!endif
        modparam("registrar", "max_expires", 3600)

        request_route {
            if (!mf_process_maxfwd_header("10")) {
                sl_send_reply("483", "Too Many Hops");
                exit;
            }
            if (!is_method("REGISTER")) {
                sl_send_reply("404", "Not Found");
                exit;
            }
            if (proto == TLS) {
                # The handshake verified the certificate; only the bench device owns the lines.
                if ($tls_peer_verified != 1 || $tls_peer_subject_cn != DEVICE) {
                    sl_send_reply("403", "Forbidden");
                    exit;
                }
            } else {
                if (!pv_www_authenticate("$td", PASSWORD, "0")) {
                    # -4: the nonce expired or its nc passed 255; challenge again with stale=true.
                    if ($rc == -4) {
                        www_challenge("$td", "17");
                    } else {
                        www_challenge("$td", "1");
                    }
                    exit;
                }
                # A user binds only its own address of record.
                if ($au != $tU) {
                    sl_send_reply("403", "Forbidden");
                    exit;
                }
                consume_credentials();
            }
            if (!save("location")) {
                sl_reply_error();
            }
            exit;
        }

        """

    static func version() -> String {
        // "version: kamailio 5.6.3 (x86_64/linux)"
        guard let line = versionLine(KamailioProcess.executable, "-v", prefix: "version:") else { return "" }
        return line.split(separator: " ").dropFirst(2).first.map(String.init) ?? ""
    }

    /// The first line of `executable argument`'s output that starts with `prefix`, for a
    /// baseline's version in the bench's header; nil when it does not run or says no such line.
    static func versionLine(_ executable: String, _ argument: String, prefix: String) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = [argument]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        guard (try? process.run()) != nil else { return nil }
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return text.split(separator: "\n").first { $0.hasPrefix(prefix) }.map(String.init)
    }
}

/// Just enough SQLite for the bench to create and inspect Kamailio's database.
final class SQLiteFile {
    private var handle: OpaquePointer?

    init(path: String) throws {
        guard sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nil) == SQLITE_OK else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(handle)
            throw BenchmarkError(reason: "sqlite3_open \(path): \(message)")
        }
    }

    deinit { sqlite3_close(handle) }

    func execute(_ script: String) throws {
        var error: UnsafeMutablePointer<CChar>?
        guard sqlite3_exec(handle, script, nil, nil, &error) == SQLITE_OK else {
            let message = error.map { String(cString: $0) } ?? "unknown error"
            sqlite3_free(error)
            throw BenchmarkError(reason: "sqlite: \(message)")
        }
    }

    func integer(_ query: String) throws -> Int {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(handle, query, -1, &statement, nil) == SQLITE_OK else {
            throw BenchmarkError(reason: "sqlite: \(String(cString: sqlite3_errmsg(handle)))")
        }
        defer { sqlite3_finalize(statement) }
        guard sqlite3_step(statement) == SQLITE_ROW else { throw BenchmarkError(reason: "sqlite: \(query) returned no row") }
        return Int(sqlite3_column_int64(statement, 0))
    }
}
