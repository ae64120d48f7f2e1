import Media
import Synchronization

/// The relay's latest events, for `outpost show media`.
final class MediaEventLog: Sendable {
    private static let capacity = 50
    private let events = Mutex<[(at: ContinuousClock.Instant, event: MediaEvent)]>([])

    func append(_ event: MediaEvent) {
        events.withLock { events in
            events.append((ContinuousClock.now, event))
            if events.count > Self.capacity { events.removeFirst(events.count - Self.capacity) }
        }
    }

    var latest: [(at: ContinuousClock.Instant, event: MediaEvent)] { events.withLock { $0 } }
}
