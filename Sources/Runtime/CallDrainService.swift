import Edge
import Logging
import ServiceLifecycle

/// The calls' part of a graceful stop (SIGTERM): new calls are refused with 503 at once, the
/// calls up may go on for `calls.drain_time`, then the rest are hung up with a Reason on every
/// leg, their records written first. It sits next to last among the services, so it drains while
/// the SIP listeners, the relay and the call records are all still running.
final class CallDrainService: Service {
    private let calls: CallRouter
    private let drain: Duration
    private let logger: Logger
    static let reason = "the edge is shutting down"

    init(calls: CallRouter, drain: Duration, logger: Logger) {
        self.calls = calls
        self.drain = drain
        self.logger = logger
    }

    func run() async throws {
        // Returns on graceful shutdown; throws only when the group is cancelled outright.
        try await gracefulShutdown()
        calls.beginDraining()
        let up = calls.activeCallCount
        guard up > 0 else { return }
        logger.notice("stopping: new calls are refused; the calls up may go on", metadata: ["calls": "\(up)", "drain": "\(drain)"])
        let deadline = ContinuousClock.now + drain
        while calls.activeCallCount > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(100))
        }
        let left = calls.activeCallCount
        guard left > 0 else {
            logger.notice("stopping: every call ended by itself")
            return
        }
        logger.notice("stopping: hanging up the calls still up", metadata: ["calls": "\(left)"])
        await calls.shutDown(reason: Self.reason)
        // The BYEs are on their way once the records are written; a moment for them to leave.
        try? await Task.sleep(for: .milliseconds(500))
    }
}
