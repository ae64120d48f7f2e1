import Edge
import Foundation
import Logging
import Runtime
import Storage
import Testing

@Suite struct SQLiteCallRecordsTests {
    private final class TemporaryDirectory: Sendable {
        let path = NSTemporaryDirectory() + "calls-test-\(UUID().uuidString)"
        init() throws { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false) }
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    static let quiet = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    static func record(id: String = "a1b2c3d4e5f6a7b8", setupAt: Int64 = 1_800_000_000_000, ended: Bool = true) -> CallRecord {
        let quality = MediaLegQuality(
            packetsReceived: UInt64.max, packetsSent: 150, lost: -2, jitterMilliseconds: 3.25, authenticationFailures: 4, wrongSource: 5,
            peerReportedFractionLost: 0.125, peerReportedJitterMilliseconds: nil, encrypted: true)
        return CallRecord(
            id: id, callID: "call-\(id)@192.0.2.11",
            caller: CallParty(device: "SEP001122334455", line: "2001", number: "2001", displayName: "Réception \"front\", desk\n☎️"),
            callee: CallParty(device: nil, line: "2002", number: "2002", displayName: String(repeating: "x", count: 100_000)),
            dialled: "2002", route: "internal", mode: "survivable",
            legs: [
                CallLegRecord(role: .caller, device: "SEP001122334455", transport: "TLS", remote: "tls:192.0.2.11:40000", suite: "AES_CM_128_HMAC_SHA1_80", codec: "PCMU/8000", quality: quality),
                CallLegRecord(role: .callee, device: "SEP00AABBCCDDEE", transport: "UDP", remote: "udp:[2001:db8::7]:5060"),
            ],
            setupAt: setupAt, ringingAt: setupAt + 200, answeredAt: ended ? setupAt + 3_000 : nil, endedAt: ended ? setupAt + 63_000 : nil,
            endedBy: ended ? .callee : nil, endStatus: ended ? 200 : nil, q850Cause: ended ? 16 : nil, endReason: ended ? "the callee hung up; '); DROP TABLE calls;--\u{0}" : nil,
            security: .nonSecure, otherHalf: "b2c3d4e5f6a7b8c9")
    }

    @Test func everyFieldComesBackAsWritten() async throws {
        let directory = try TemporaryDirectory()
        let records = try SQLiteCallRecords.open(stateDirectory: directory.path, logger: Self.quiet)
        let written = Self.record()
        try await records.write(written)
        #expect(try records.records() == [written])
        let reopened = try SQLiteCallRecords.openExisting(stateDirectory: directory.path)
        #expect(try reopened.record(id: written.id) == written)
    }

    @Test func anOpenRecordIsUpdatedInPlaceAndClosedByTheNextStart() async throws {
        let directory = try TemporaryDirectory()
        let records = try SQLiteCallRecords.open(stateDirectory: directory.path, logger: Self.quiet)
        try await records.write(Self.record(id: "open0000001", ended: false))
        try await records.write(Self.record(id: "ended000001", setupAt: 1_800_000_100_000))
        var answered = Self.record(id: "open0000001", ended: false)
        answered.answeredAt = answered.setupAt + 1_000
        answered.legs.removeLast()
        try await records.write(answered)
        #expect(try records.records().count == 2)
        #expect(try records.record(id: "open0000001")?.legs.count == 1)

        let restarted = try SQLiteCallRecords.open(stateDirectory: directory.path, logger: Self.quiet, now: 1_800_000_200_000)
        let closed = try #require(try restarted.record(id: "open0000001"))
        #expect(closed.endedAt == 1_800_000_200_000 && closed.endedBy == .restart && closed.endReason == SQLiteCallRecords.restartReason)
        #expect(closed.q850Cause == 41 && closed.endStatus == nil, "temporary failure: no SIP status ended it")
        #expect(try restarted.record(id: "ended000001")?.endedBy == .callee, "ended calls are left as they were")
        #expect(try restarted.closeOpenRecords(endedAt: 1, reason: "again").isEmpty)
    }

    @Test func rangesAndLimitsSelectNewestFirst() async throws {
        let directory = try TemporaryDirectory()
        let records = try SQLiteCallRecords.open(stateDirectory: directory.path, logger: Self.quiet)
        for minute in 0..<10 { try await records.write(Self.record(id: "call\(minute)-000000", setupAt: 1_800_000_000_000 + Int64(minute) * 60_000)) }
        #expect(try records.records(limit: 3).map(\.id) == ["call9-000000", "call8-000000", "call7-000000"])
        let middle = try records.records(since: 1_800_000_120_000, until: 1_800_000_300_000)
        #expect(middle.map(\.id) == ["call4-000000", "call3-000000", "call2-000000"])
    }

    @Test func lookupsByPrefixAndCallIDRefuseAmbiguityAndShortPrefixes() async throws {
        let directory = try TemporaryDirectory()
        let records = try SQLiteCallRecords.open(stateDirectory: directory.path, logger: Self.quiet)
        try await records.write(Self.record(id: "abcdef111111"))
        try await records.write(Self.record(id: "abcdef222222"))
        #expect(try records.record(id: "abcdef1")?.id == "abcdef111111")
        #expect(try records.record(id: "call-abcdef222222@192.0.2.11")?.id == "abcdef222222")
        #expect(throws: CallRecordsError.self) { try records.record(id: "abcdef") }
        #expect(throws: CallRecordsError.self) { try records.record(id: "abc") }
        #expect(try records.record(id: "abcdef%") == nil, "a wildcard matches only itself")
    }

    /// A call the process died with is closed when the edge was last seen alive, so the
    /// downtime is not talk time; one set up after that ends no earlier than it was answered.
    @Test func theCallsAProcessDiedWithEndWhenItWasLastAlive() async throws {
        let directory = try TemporaryDirectory()
        let records = try SQLiteCallRecords.open(stateDirectory: directory.path, logger: Self.quiet)
        var early = Self.record(id: "early0000001", setupAt: 1_800_000_000_000, ended: false)
        early.answeredAt = early.setupAt + 1_000
        try await records.write(early)
        try await records.markAlive(now: 1_800_000_030_000)
        var late = Self.record(id: "late00000001", setupAt: 1_800_000_031_000, ended: false)
        late.answeredAt = late.setupAt + 2_000
        try await records.write(late)

        let restarted = try SQLiteCallRecords.open(stateDirectory: directory.path, logger: Self.quiet, now: 1_800_000_900_000)
        #expect(try restarted.record(id: "early0000001")?.endedAt == 1_800_000_030_000, "last seen alive, not 15 minutes later")
        #expect(try restarted.record(id: "late00000001")?.endedAt == 1_800_000_033_000, "never before it was answered")
    }

    /// Files of the earlier schemas (1: calls and legs; 2: and the edge's last sign of life) are
    /// carried forward with what they hold.
    @Test(arguments: [
        (1, "DROP TABLE edge_alive; ALTER TABLE calls DROP COLUMN other_half; PRAGMA user_version = 1;"),
        (2, "ALTER TABLE calls DROP COLUMN other_half; PRAGMA user_version = 2;"),
    ])
    func anEarlierSchemaFileIsMigrated(version: Int, downgrade: String) async throws {
        let directory = try TemporaryDirectory()
        let records = try SQLiteCallRecords.open(stateDirectory: directory.path, logger: Self.quiet)
        var kept = Self.record(id: "kept00000001")
        kept.otherHalf = nil
        try await records.write(kept)
        try SQLiteConnection(path: records.path).execute(downgrade)
        let migrated = try SQLiteCallRecords.open(stateDirectory: directory.path, logger: Self.quiet)
        #expect(try migrated.record(id: "kept00000001") == kept, "schema \(version)")
        try await migrated.markAlive(now: 5)
        var linked = Self.record(id: "linked000001")
        linked.otherHalf = "kept00000001"
        try await migrated.write(linked)
        #expect(try migrated.record(id: "linked000001")?.otherHalf == "kept00000001")
    }

    /// Writes that arrive together share a commit, and each call's own writes (setup, answer,
    /// end) still land in the order they were made.
    @Test func concurrentWritesAreGroupedAndEachCallsLastWriteWins() async throws {
        let directory = try TemporaryDirectory()
        let records = try SQLiteCallRecords.open(stateDirectory: directory.path, logger: Self.quiet)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for call in 0..<300 {
                group.addTask {
                    let id = String(format: "%016x", call)
                    var record = Self.record(id: id, setupAt: 1_800_000_000_000 + Int64(call), ended: false)
                    try await records.write(record)
                    record.answeredAt = record.setupAt + 1_000
                    try await records.write(record)
                    record.endedAt = record.setupAt + 2_000
                    record.endStatus = 200
                    try await records.write(record)
                }
            }
            try await group.waitForAll()
        }
        let stored = try records.records()
        #expect(stored.count == 300)
        #expect(stored.allSatisfy { $0.endedAt == $0.setupAt + 2_000 && $0.answeredAt == $0.setupAt + 1_000 && $0.endStatus == 200 })
        #expect(try records.closeOpenRecords(endedAt: 0, reason: "none should be open").isEmpty)
    }

    @Test func aFileThatIsNotACallDatabaseIsRefusedByName() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/" + SQLiteCallRecords.fileName
        try Data(repeating: 0x42, count: 4096).write(to: URL(fileURLWithPath: path))
        do {
            _ = try SQLiteCallRecords.open(stateDirectory: directory.path, logger: Self.quiet)
            Issue.record("a corrupt file was opened")
        } catch {
            #expect("\(error)".contains("calls.sqlite") || "\(error)".contains("not a database"), "\(error)")
        }
        #expect(throws: CallRecordsError.missing(file: NSTemporaryDirectory() + "nowhere-\(getpid())/calls.sqlite")) {
            try SQLiteCallRecords.openExisting(stateDirectory: NSTemporaryDirectory() + "nowhere-\(getpid())")
        }
    }
}
