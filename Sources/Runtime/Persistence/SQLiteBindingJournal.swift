import Dispatch
import Edge
import Storage
import Synchronization

/// The registrar's bindings and the device inventory in `STATE_DIR/registrations.sqlite`.
///
/// Writes are committed in groups: `write` only queues (in call order) and returns; one writer
/// thread takes everything queued, applies it in one transaction, commits — one fsync for the
/// whole group — and only then calls the group's completions, all with the same outcome. Under
/// load the groups grow, so the fsync cost is shared by many REGISTERs instead of paid by each.
///
/// Completions run on the writer thread: keep them short (hand the answer to an event loop).
/// Do not call the synchronous methods (`loadBindings`, `purgeExpired`, …) from a completion.
public final class SQLiteBindingJournal: BindingJournal {
    public static let fileName = "registrations.sqlite"

    public let path: String
    private let maximumGroupSize: Int
    private let writerQueue = DispatchQueue(label: "outpost.binding-journal")
    private let queued = Mutex(QueuedWrites())
    private let committedGroups = Atomic(0)
    private let committedWrites = Atomic(0)
    /// Touched only on `writerQueue`.
    private nonisolated(unsafe) let store: BindingStore

    private struct PendingWrite {
        let addressOfRecord: String
        let bindings: [Binding]
        let completion: @Sendable (Result<Void, any Error>) -> Void
    }

    private struct QueuedWrites {
        var writes: [PendingWrite] = []
        /// Whether a group is scheduled or being written on the writer queue.
        var writerScheduled = false
        var closed = false
    }

    /// Opens (creating if needed) the journal of a state directory.
    public convenience init(stateDirectory: String, maximumGroupSize: Int = 4096) throws {
        try self.init(path: stateDirectory + "/" + Self.fileName, maximumGroupSize: maximumGroupSize)
    }

    /// `maximumGroupSize` bounds one transaction (and so the latency of the writes behind it);
    /// 1 gives one transaction per write, the baseline `outpost bench journal` compares with.
    public init(path: String, maximumGroupSize: Int = 4096) throws {
        precondition(maximumGroupSize > 0, "a group holds at least one write")
        self.path = path
        self.maximumGroupSize = maximumGroupSize
        store = try BindingStore(path: path)
    }

    /// Transactions committed, and the writes they carried: their ratio is the mean group size.
    public var groupsCommitted: Int { committedGroups.load(ordering: .relaxed) }
    public var writesCommitted: Int { committedWrites.load(ordering: .relaxed) }

    public func write(
        addressOfRecord: String, bindings: [Binding], completion: @escaping @Sendable (Result<Void, any Error>) -> Void
    ) {
        let write = PendingWrite(addressOfRecord: addressOfRecord, bindings: bindings, completion: completion)
        let schedule: Bool? = queued.withLock { state in
            guard !state.closed else { return nil }
            state.writes.append(write)
            if state.writerScheduled { return false }
            state.writerScheduled = true
            return true
        }
        switch schedule {
        case nil: completion(.failure(BindingJournalError.closed(file: path)))
        case true?: writerQueue.async { self.writeOneGroup() }
        case false?: break
        }
    }

    public func loadBindings() throws -> [Binding] {
        try writerQueue.sync { try store.loadBindings() }
    }

    /// Deletes bindings that expired before `time` (seconds since 1970); returns how many.
    @discardableResult
    public func purgeExpired(before time: Int64) throws -> Int {
        try writerQueue.sync { try store.purgeExpired(before: time) }
    }

    /// Replaces the stored inventory with the configuration's.
    public func writeInventory(_ devices: [Device]) throws {
        try writerQueue.sync { try store.replaceInventory(devices) }
    }

    public func loadInventory() throws -> [Device] {
        try writerQueue.sync { try store.loadInventory() }
    }

    /// Refuses further writes and returns once every queued write is committed and completed.
    public func close() {
        queued.withLock { $0.closed = true }
        // A group being written may schedule the next one behind this barrier: wait until none is.
        while true {
            writerQueue.sync {}
            if !queued.withLock({ $0.writerScheduled }) { return }
        }
    }

    private func writeOneGroup() {
        let group: [PendingWrite] = queued.withLock { state in
            if state.writes.count <= maximumGroupSize {
                defer { state.writes = [] }
                return state.writes
            }
            defer { state.writes.removeFirst(maximumGroupSize) }
            return Array(state.writes.prefix(maximumGroupSize))
        }
        let outcome: Result<Void, any Error>
        do {
            try store.replace(group.map { ($0.addressOfRecord, $0.bindings) })
            committedGroups.add(1, ordering: .relaxed)
            committedWrites.add(group.count, ordering: .relaxed)
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        for write in group { write.completion(outcome) }
        let more = queued.withLock { state in
            if state.writes.isEmpty { state.writerScheduled = false }
            return state.writerScheduled
        }
        // One group per queue item, so a synchronous call (a load, close) waits for one group, not for a lull.
        if more { writerQueue.async { self.writeOneGroup() } }
    }
}

public enum BindingJournalError: Error, Equatable, CustomStringConvertible {
    case closed(file: String)
    case unreadableRow(file: String, addressOfRecord: String, reason: String)
    case newerSchema(file: String, version: Int64)

    public var description: String {
        switch self {
        case .closed(let file): "\(file): the binding journal is closed"
        case .unreadableRow(let file, let addressOfRecord, let reason): "\(file): binding of \(addressOfRecord): \(reason)"
        case .newerSchema(let file, let version):
            "\(file): schema version \(version) is newer than this edge understands (\(BindingStore.schemaVersion))"
        }
    }
}
