import Logging
import Synchronization

/// The one place the trunk's health lives: the keep-alive monitor and the registrar report to
/// it, everyone reads the mode from it. Every transition is logged with its cause and counted.
public final class SurvivabilityController: Sendable {
    public struct Snapshot: Sendable, Codable, Equatable {
        public var mode: RegistrarMode
        public var state: String
        public var lastCause: String
        public var secondsInState: Double
        public var failovers: Int
        public var failbacks: Int
        public var history: [LoggedTransition]
    }

    public struct LoggedTransition: Sendable, Codable, Equatable {
        public var from: RegistrarMode
        public var to: RegistrarMode
        public var cause: String
        /// Wall-clock time, seconds since 1970.
        public var at: Double
    }

    private struct State {
        var health: TrunkHealth
        var history: [LoggedTransition] = []
        var failovers = 0
        var failbacks = 0
        var watchers: [Int: AsyncStream<RegistrarMode>.Continuation] = [:]
        var nextWatcher = 0
    }

    private let state: Mutex<State>
    private let logger: Logger
    private let wallClock: @Sendable () -> Double
    private static let historyLimit = 50

    public init(settings: TrunkHealth.Settings, logger: Logger, wallClock: @escaping @Sendable () -> Double) {
        self.state = Mutex(State(health: TrunkHealth(settings: settings, now: .now)))
        self.logger = logger
        self.wallClock = wallClock
    }

    public var mode: RegistrarMode { state.withLock { $0.health.mode } }
    /// Whether any call manager has answered since start.
    public var everAnswered: Bool { answered.load(ordering: .relaxed) }
    private let answered = Atomic<Bool>(false)
    public var nextDeadline: ContinuousClock.Instant? { state.withLock { $0.health.nextDeadline } }

    public func probeAnswered() {
        answered.store(true, ordering: .relaxed)
        apply { $0.probeAnswered(at: .now) }
    }
    public func probeMissed(cause: String) { apply { $0.probeMissed(at: .now, cause: cause) } }
    public func transportFailed(cause: String) { apply { $0.transportFailed(at: .now, cause: cause) } }
    public func advance() { apply { $0.advance(to: .now) } }
    public func handBackCompleted(summary: String) { apply { $0.handBackCompleted(at: .now, summary: summary) } }

    /// Every mode change, starting with the current mode.
    public func modes() -> AsyncStream<RegistrarMode> {
        let (stream, continuation) = AsyncStream.makeStream(of: RegistrarMode.self, bufferingPolicy: .bufferingNewest(8))
        let id = state.withLock { state in
            continuation.yield(state.health.mode)
            state.nextWatcher += 1
            state.watchers[state.nextWatcher] = continuation
            return state.nextWatcher
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.watchers.removeValue(forKey: id) }
        }
        return stream
    }

    public func snapshot() -> Snapshot {
        state.withLock { state in
            let stateName: String
            switch state.health.state {
            case .up(let misses): stateName = "up (\(misses) of \(state.health.settings.misses) keep-alives missed)"
            case .down(let successes): stateName = "down (\(successes) of \(state.health.settings.successes) keep-alives answered)"
            case .holdingDown(let until): stateName = "holding down (\(ContinuousClock.now.duration(to: until).readable) left)"
            case .handingBack: stateName = "handing registrations back"
            }
            return Snapshot(
                mode: state.health.mode, state: stateName, lastCause: state.health.lastCause,
                secondsInState: state.health.since.duration(to: .now) / .seconds(1), failovers: state.failovers,
                failbacks: state.failbacks, history: state.history)
        }
    }

    private func apply(_ event: (inout TrunkHealth) -> TrunkHealth.Transition?) {
        let now = wallClock()
        let transition = state.withLock { state -> TrunkHealth.Transition? in
            guard let transition = event(&state.health) else { return nil }
            if transition.to == .survivable { state.failovers += 1 }
            if transition.from == .failback, transition.to == .normal { state.failbacks += 1 }
            state.history.append(LoggedTransition(from: transition.from, to: transition.to, cause: transition.cause, at: now))
            if state.history.count > Self.historyLimit { state.history.removeFirst() }
            for watcher in state.watchers.values { watcher.yield(transition.to) }
            return transition
        }
        if let transition {
            // Losing the call manager is an alarm for whoever looks after the branch; coming back is news.
            logger.log(
                level: transition.to == .survivable ? .warning : .notice,
                "registrar mode \(transition.from.rawValue) → \(transition.to.rawValue)",
                metadata: ["cause": "\(transition.cause)", "at": "\(now)"])
        }
    }
}
