import Dispatch
import Edge
import Foundation
import Logging
import Synchronization

/// The call detail records in `STATE_DIR/calls.sqlite`.
///
/// Every statement runs on one serial queue, off the event loops and the cooperative pool: a
/// commit waits for an fsync (synchronous=FULL), which must block neither. Writes that wait
/// while one commits go in the next commit together (group commit): each call writes its record
/// three times, and at hundreds of calls a second one fsync per write would be the limit.
public final class SQLiteCallRecords: CallRecordStore {
    public static let fileName = "calls.sqlite"
    /// The end reason of a record the previous process left open.
    public static let restartReason = "the edge restarted while the call was up"
    /// The shortest id prefix `record(id:)` accepts, so a few characters cannot pick a call by luck.
    public static let minimumPrefixLength = 6

    public let path: String
    private let queue = DispatchQueue(label: "outpost.call-records")
    private let pending = Mutex<PendingWrites>(PendingWrites())

    private struct PendingWrites {
        var writes: [(record: CallRecord, done: CheckedContinuation<Void, any Error>)] = []
        var writerScheduled = false
    }

    /// The most records one commit takes, so reads queued behind a burst wait for one group only.
    static let maximumGroupSize = 256
    /// Touched only on `queue`.
    private nonisolated(unsafe) let tables: CallRecordTables

    private init(path: String) throws {
        self.path = path
        tables = try queue.sync { try CallRecordTables(path: path) }
    }

    /// Opens (creating if needed) the records of the edge that is starting, and closes the records
    /// the previous process left open: their calls ended with it, as far as is known when it was
    /// last seen alive (`markAlive`), so the downtime does not count as talk time.
    public static func open(stateDirectory: String, logger: Logger, now: Int64 = wallClockMilliseconds()) throws -> SQLiteCallRecords {
        let records = try SQLiteCallRecords(path: stateDirectory + "/" + fileName)
        let lastSeen = try records.queue.sync { try records.tables.lastAlive() }
        let closed = try records.closeOpenRecords(endedAt: min(now, lastSeen ?? now), reason: restartReason)
        if !closed.isEmpty {
            logger.notice(
                "Closed call records left open by the previous process",
                metadata: ["count": "\(closed.count)", "file": "\(records.path)", "calls": "\(closed.joined(separator: " "))"])
        }
        return records
    }

    /// Opens the records of a state directory to read them, beside a running edge: nothing is
    /// closed, and a missing file is an error rather than a new, empty one.
    public static func openExisting(stateDirectory: String) throws -> SQLiteCallRecords {
        let path = stateDirectory + "/" + fileName
        guard fileExists(path) else { throw CallRecordsError.missing(file: path) }
        return try SQLiteCallRecords(path: path)
    }

    public func write(_ record: CallRecord) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let schedule = pending.withLock { state in
                state.writes.append((record, continuation))
                defer { state.writerScheduled = true }
                return !state.writerScheduled
            }
            if schedule { queue.async { self.writeOneGroup() } }
        }
    }

    /// On `queue`: the waiting writes in one transaction; when it fails, each alone, so one bad
    /// record fails only its own write.
    private func writeOneGroup() {
        let group = pending.withLock { state in
            let group = Array(state.writes.prefix(Self.maximumGroupSize))
            state.writes.removeFirst(group.count)
            return group
        }
        do {
            try tables.upsert(group.map(\.record))
            for write in group { write.done.resume() }
        } catch {
            for write in group { write.done.resume(with: Result { try tables.upsert([write.record]) }) }
        }
        let more = pending.withLock { state in
            if state.writes.isEmpty { state.writerScheduled = false }
            return state.writerScheduled
        }
        if more { queue.async { self.writeOneGroup() } }
    }

    /// Notes that the edge is alive now; see `open`.
    public func markAlive(now: Int64 = wallClockMilliseconds()) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            queue.async { continuation.resume(with: Result { try self.tables.markAlive(at: now) }) }
        }
    }

    public func closeOpenRecords(endedAt: Int64, reason: String) throws -> [String] {
        try queue.sync { try tables.closeOpenRecords(endedAt: endedAt, reason: reason) }
    }

    /// Records set up at or after `since` and before `until` (milliseconds since 1970), newest
    /// first, at most `limit` of them (nil: all).
    public func records(since: Int64? = nil, until: Int64? = nil, limit: Int? = nil) throws -> [CallRecord] {
        try queue.sync { try tables.records(since: since, until: until, limit: limit) }
    }

    /// The record whose id is `text`, or whose caller's Call-ID is, or whose id starts with `text`
    /// (at least ``minimumPrefixLength`` characters); nil when none does. Throws when several do.
    public func record(id text: String) throws -> CallRecord? {
        let matches = try queue.sync {
            try tables.records(identifiedBy: text, matchingPrefix: text.count >= Self.minimumPrefixLength)
        }
        if matches.count > 1 { throw CallRecordsError.ambiguous(text, ids: matches.map(\.id)) }
        if matches.isEmpty, text.count < Self.minimumPrefixLength {
            throw CallRecordsError.prefixTooShort(text, minimum: Self.minimumPrefixLength)
        }
        return matches.first
    }
}

public enum CallRecordsError: Error, Equatable, CustomStringConvertible {
    case missing(file: String)
    case unknownSchema(file: String, version: Int64)
    case unreadableRecord(file: String, id: String, reason: String)
    case ambiguous(String, ids: [String])
    case prefixTooShort(String, minimum: Int)

    public var description: String {
        switch self {
        case .missing(let file): "\(file): no call records (the file does not exist; is this the edge's state directory?)"
        case .unknownSchema(let file, let version):
            "\(file): schema version \(version) is not one this edge understands (\(CallRecordTables.schemaVersion)); "
                + "it was left untouched"
        case .unreadableRecord(let file, let id, let reason): "\(file): call \(id): \(reason)"
        case .ambiguous(let text, let ids):
            "'\(text)' matches \(ids.count) calls (\(ids.prefix(5).joined(separator: ", "))\(ids.count > 5 ? ", …" : "")); give more of the id"
        case .prefixTooShort(let text, let minimum):
            "'\(text)' is neither a call's id nor its Call-ID, and an id prefix needs at least \(minimum) characters"
        }
    }
}

/// Milliseconds since 1970, the unit of every time in a call record.
public func wallClockMilliseconds() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }

private func fileExists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }
