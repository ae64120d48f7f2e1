import Synchronization

/// Per-cause rate limiting of log lines, as a pure value with the clock passed in: at most `burst`
/// lines per cause in each `interval`; what is held back is counted and reported with the next
/// line of that cause (and by `drainExpired`), so a flood of one kind of garbage writes a few
/// lines saying how much was suppressed instead of one line per datagram.
///
/// The causes tracked are bounded (`maximumCauses`); beyond them, new causes share `otherCause`,
/// so an attacker choosing the cause cannot grow the table.
public struct LogRateLimiter: Sendable {
    public enum Decision: Hashable, Sendable {
        /// Write the line; `suppressed` lines of this cause were held back since the last one written.
        case log(suppressed: Int)
        /// Hold the line back; it is counted.
        case suppress
    }

    public static let otherCause = "other"

    public let burst: Int
    public let interval: Duration
    public let maximumCauses: Int

    private struct Window: Sendable {
        var start: ContinuousClock.Instant
        var logged: Int
        var suppressed: Int
    }
    private var windows: [String: Window] = [:]

    public init(burst: Int = 5, interval: Duration = .seconds(10), maximumCauses: Int = 64) {
        self.burst = max(burst, 1)
        self.interval = interval
        self.maximumCauses = max(maximumCauses, 1)
    }

    public mutating func admit(_ cause: String, now: ContinuousClock.Instant) -> Decision {
        let key = windows[cause] != nil || windows.count < maximumCauses - 1 || cause == Self.otherCause ? cause : Self.otherCause
        guard var window = windows[key], now < window.start + interval else {
            let carried = windows[key]?.suppressed ?? 0
            windows[key] = Window(start: now, logged: 1, suppressed: 0)
            return .log(suppressed: carried)
        }
        defer { windows[key] = window }
        guard window.logged < burst else {
            window.suppressed += 1
            return .suppress
        }
        window.logged += 1
        let carried = window.suppressed
        window.suppressed = 0
        return .log(suppressed: carried)
    }

    /// Causes whose window has ended with lines still held back, and how many; they are forgotten,
    /// so a flood that stopped still gets its count reported once and the table empties.
    public mutating func drainExpired(now: ContinuousClock.Instant) -> [(cause: String, suppressed: Int)] {
        var drained: [(cause: String, suppressed: Int)] = []
        for (cause, window) in windows where now >= window.start + interval {
            if window.suppressed > 0 { drained.append((cause, window.suppressed)) }
            windows[cause] = nil
        }
        return drained.sorted { $0.cause < $1.cause }
    }

    /// Causes being tracked now.
    public var trackedCauses: Int { windows.count }
}

/// A `LogRateLimiter` shared by handlers on several event loops (every TCP/TLS connection of an
/// edge), so a flood spread over many connections is limited as one.
public final class SharedLogRateLimiter: Sendable {
    private let limiter: Mutex<LogRateLimiter>
    public let interval: Duration

    public init(_ limiter: LogRateLimiter = LogRateLimiter()) {
        self.interval = limiter.interval
        self.limiter = Mutex(limiter)
    }

    public func admit(_ cause: String, now: ContinuousClock.Instant) -> LogRateLimiter.Decision {
        limiter.withLock { $0.admit(cause, now: now) }
    }

    public func drainExpired(now: ContinuousClock.Instant) -> [(cause: String, suppressed: Int)] {
        limiter.withLock { $0.drainExpired(now: now) }
    }
}
