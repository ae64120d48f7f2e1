import Synchronization

/// Counters for every request the TFTP server serves, refuses or drops, the transfers in
/// progress, and a bounded list of recent transfers, for `outpost show tftp`.
public final class TFTPStatistics: Sendable {
    public enum Counter: String, CaseIterable, Sendable {
        case readRequests = "read_requests"
        case transfersStarted = "transfers_started"
        case transfersCompleted = "transfers_completed"
        case transfersFailed = "transfers_failed"
        case transfersTimedOut = "transfers_timed_out"
        /// Ended by the whole-transfer deadline, not by retries.
        case transfersPastDeadline = "transfers_past_deadline"
        case bytesSent = "bytes_sent"
        case writeRequestsRefused = "write_requests_refused"
        case filesNotFound = "files_not_found"
        case accessViolations = "access_violations"
        case unsupportedModes = "unsupported_modes"
        case tooManyTransfers = "too_many_transfers"
        case tooManyTransfersFromClient = "too_many_transfers_from_client"
        case duplicateRequests = "duplicate_requests"
        case malformedPackets = "malformed_packets"
        case unexpectedPackets = "unexpected_packets"
        case unknownTransferID = "unknown_transfer_id"
        case transferSetupFailures = "transfer_setup_failures"
        case upstreamFetches = "upstream_fetches"
        case upstreamFailures = "upstream_failures"
        case cacheHits = "cache_hits"
        case cacheWriteFailures = "cache_write_failures"
    }

    /// One finished or refused transfer.
    public struct Transfer: Sendable, Hashable {
        public var client: String
        public var file: String
        public var bytes: UInt64
        public var blockSize: Int
        public var windowSize: Int
        public var duration: Duration
        /// "ok", "timeout", or the ERROR code and message that ended or refused it.
        public var outcome: String

        public init(client: String, file: String, bytes: UInt64, blockSize: Int, windowSize: Int, duration: Duration, outcome: String) {
            self.client = client
            self.file = file
            self.bytes = bytes
            self.blockSize = blockSize
            self.windowSize = windowSize
            self.duration = duration
            self.outcome = outcome
        }
    }

    private struct State {
        var counters = [UInt64](repeating: 0, count: Counter.allCases.count)
        var active = 0
        var recent: [Transfer] = []
        var next = 0
    }

    public let recentCapacity: Int
    private let state = Mutex(State())

    public init(recentCapacity: Int = 64) {
        self.recentCapacity = max(recentCapacity, 1)
    }

    public func increment(_ counter: Counter, by amount: UInt64 = 1) {
        let index = Self.indices[counter]!
        state.withLock { $0.counters[index] += amount }
    }

    public subscript(counter: Counter) -> UInt64 {
        let index = Self.indices[counter]!
        return state.withLock { $0.counters[index] }
    }

    /// Transfers holding a slot (looking up their file or sending it).
    public var activeTransfers: Int { state.withLock { $0.active } }

    func adjustActive(by delta: Int) {
        state.withLock { $0.active += delta }
    }

    public func record(_ transfer: Transfer) {
        let capacity = recentCapacity
        state.withLock { state in
            if state.recent.count < capacity {
                state.recent.append(transfer)
            } else {
                state.recent[state.next] = transfer
            }
            state.next = (state.next + 1) % capacity
        }
    }

    /// The recorded transfers, newest first.
    public var recentTransfers: [Transfer] {
        state.withLock { state in
            let ordered = state.recent.count < recentCapacity
                ? state.recent : Array(state.recent[state.next...] + state.recent[..<state.next])
            return ordered.reversed()
        }
    }

    public var snapshot: [Counter: UInt64] {
        let copy = state.withLock { $0.counters }
        return Dictionary(uniqueKeysWithValues: Counter.allCases.enumerated().map { ($1, copy[$0]) })
    }

    private static let indices: [Counter: Int] = Dictionary(
        uniqueKeysWithValues: Counter.allCases.enumerated().map { ($1, $0) })
}
