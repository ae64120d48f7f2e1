import Media
import Synchronization

/// Whoever wants the relay's events: the call layer, the log, the metrics.
public final class MediaObservers: Sendable {
    private let handlers = Mutex<[@Sendable (MediaEvent) -> Void]>([])

    public init() {}

    public func add(_ handler: @escaping @Sendable (MediaEvent) -> Void) {
        handlers.withLock { $0.append(handler) }
    }

    public func deliver(_ event: MediaEvent) {
        for handler in handlers.withLock({ $0 }) { handler(event) }
    }
}
