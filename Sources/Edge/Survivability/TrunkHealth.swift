/// Who answers the phones' REGISTERs.
public enum RegistrarMode: String, Sendable, Hashable, Codable {
    /// The call manager answers; the edge relays and keeps a copy of every binding.
    case normal
    /// The call manager is gone; the edge is the registrar for every inventory device.
    case survivable
    /// The call manager is back and stayed back; the edge re-registers its live bindings upstream.
    case failback
}

/// The trunk's health as keep-alive results and transport failures arrive, and the registrar mode
/// it implies. Pure: events with their instant in, at most one transition out.
///
/// - normal → survivable after `misses` unanswered keep-alives in a row, or at once on a
///   transport failure (connection refused or reset, a relayed REGISTER that got no answer);
/// - survivable → (hold-down) after `successes` answered keep-alives in a row; any miss during
///   the hold-down starts the count again;
/// - hold-down elapsed → failback; the caller re-registers and reports `handBackCompleted`;
/// - failback → normal when done, or → survivable on a miss or transport failure meanwhile.
public struct TrunkHealth: Sendable {
    public struct Settings: Sendable, Hashable {
        public var misses: Int
        public var successes: Int
        public var holdDown: Duration

        public init(misses: Int = 3, successes: Int = 3, holdDown: Duration = .seconds(120)) {
            self.misses = max(1, misses)
            self.successes = max(1, successes)
            self.holdDown = holdDown
        }

        /// How long a keep-alive may go unanswered before it counts as missed, when keep-alives
        /// go every `interval` and the next goes at once after a miss: from the moment the call
        /// manager stops answering, failover then takes at most `interval + misses × timeout`,
        /// which this makes `interval × misses + 0.25 s`.
        public func keepAliveTimeout(interval: Duration) -> Duration {
            interval * Double(misses - 1) / Double(misses) + .milliseconds(250) / misses
        }

        /// The longest time from the call manager's last answer to survivable mode.
        public func failoverBound(interval: Duration) -> Duration {
            interval + keepAliveTimeout(interval: interval) * misses
        }
    }

    public enum State: Sendable, Hashable {
        case up(consecutiveMisses: Int)
        case down(consecutiveSuccesses: Int)
        case holdingDown(until: ContinuousClock.Instant)
        case handingBack
    }

    public struct Transition: Sendable, Hashable {
        public var from: RegistrarMode
        public var to: RegistrarMode
        public var cause: String
        public var at: ContinuousClock.Instant
    }

    public let settings: Settings
    public private(set) var state: State
    public private(set) var since: ContinuousClock.Instant
    public private(set) var lastCause: String

    /// The edge starts in normal mode: the first REGISTER is relayed, and a trunk that does not
    /// answer turns the edge into the registrar within `misses` keep-alives (or at once, when the
    /// relay itself fails).
    public init(settings: Settings, now: ContinuousClock.Instant) {
        self.settings = settings
        self.state = .up(consecutiveMisses: 0)
        self.since = now
        self.lastCause = "started"
    }

    public var mode: RegistrarMode {
        switch state {
        case .up: .normal
        case .down, .holdingDown: .survivable
        case .handingBack: .failback
        }
    }

    /// When `advance(to:)` must be called next.
    public var nextDeadline: ContinuousClock.Instant? {
        if case .holdingDown(let until) = state { return until }
        return nil
    }

    public mutating func probeAnswered(at now: ContinuousClock.Instant) -> Transition? {
        switch state {
        case .up:
            state = .up(consecutiveMisses: 0)
            return nil
        case .down(let successes):
            if successes + 1 >= settings.successes {
                state = .holdingDown(until: now + settings.holdDown)
                lastCause = "\(settings.successes) keep-alives answered; holding down \(settings.holdDown)"
                return advance(to: now)
            }
            state = .down(consecutiveSuccesses: successes + 1)
            return nil
        case .holdingDown, .handingBack:
            return advance(to: now)
        }
    }

    public mutating func probeMissed(at now: ContinuousClock.Instant, cause: String) -> Transition? {
        switch state {
        case .up(let misses):
            if misses + 1 >= settings.misses {
                return move(to: .down(consecutiveSuccesses: 0), cause: "\(settings.misses) keep-alives unanswered (last: \(cause))", at: now)
            }
            state = .up(consecutiveMisses: misses + 1)
            return nil
        case .down:
            state = .down(consecutiveSuccesses: 0)
            return nil
        case .holdingDown:
            state = .down(consecutiveSuccesses: 0)
            lastCause = "keep-alive unanswered during hold-down (\(cause))"
            return nil
        case .handingBack:
            return move(to: .down(consecutiveSuccesses: 0), cause: "keep-alive unanswered during failback (\(cause))", at: now)
        }
    }

    public mutating func transportFailed(at now: ContinuousClock.Instant, cause: String) -> Transition? {
        switch state {
        case .up, .handingBack:
            return move(to: .down(consecutiveSuccesses: 0), cause: "transport failure: \(cause)", at: now)
        case .down, .holdingDown:
            state = .down(consecutiveSuccesses: 0)
            return nil
        }
    }

    public mutating func advance(to now: ContinuousClock.Instant) -> Transition? {
        guard case .holdingDown(let until) = state, now >= until else { return nil }
        return move(to: .handingBack, cause: "call manager answered for the whole hold-down", at: now)
    }

    public mutating func handBackCompleted(at now: ContinuousClock.Instant, summary: String) -> Transition? {
        guard case .handingBack = state else { return nil }
        return move(to: .up(consecutiveMisses: 0), cause: "failback done: \(summary)", at: now)
    }

    private mutating func move(to next: State, cause: String, at now: ContinuousClock.Instant) -> Transition? {
        let before = mode
        state = next
        since = now
        lastCause = cause
        return before == mode ? nil : Transition(from: before, to: mode, cause: cause, at: now)
    }
}
