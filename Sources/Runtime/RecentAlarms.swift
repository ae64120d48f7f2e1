import Foundation
import Logging
import Synchronization

/// The latest log lines at warning level and above, for `outpost show status`: what an operator
/// far away wants to see first. The command line installs ``handler(label:)`` beside the
/// standard-error handler, so every subsystem's logger feeds it.
public final class RecentAlarms: Sendable {
    public struct Entry: Sendable, Encodable, Equatable {
        /// Seconds since 1970.
        public let at: Double
        public let level: String
        public let source: String
        public let message: String
    }

    public static let shared = RecentAlarms()
    static let capacity = 20

    private let entries = Mutex<[Entry]>([])

    public init() {}

    public func record(_ entry: Entry) {
        entries.withLock { entries in
            entries.append(entry)
            if entries.count > Self.capacity { entries.removeFirst(entries.count - Self.capacity) }
        }
    }

    /// Newest first.
    public var latest: [Entry] { entries.withLock { $0.reversed() } }

    public func handler(label: String) -> any LogHandler { AlarmLogHandler(label: label, alarms: self) }
}

/// Records what is logged at warning and above; the level of the standard-error handler beside
/// it does not change what counts as an alarm.
struct AlarmLogHandler: LogHandler {
    let label: String
    let alarms: RecentAlarms
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .warning

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        guard event.level >= .warning else { return }
        // An alarm has its own time; a logged `at` would say it twice.
        let details = (event.metadata ?? [:]).filter { $0.key != "at" }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        alarms.record(
            RecentAlarms.Entry(
                at: Date().timeIntervalSince1970, level: "\(event.level)", source: label,
                message: details.isEmpty ? "\(event.message)" : "\(event.message) (\(details))"))
    }
}
