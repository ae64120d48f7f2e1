import Synchronization

/// The UDP ports calls may use: even RTP ports with RTCP on the next odd one, chosen at random so
/// an off-path attacker cannot guess the next call's port, and held back for `quarantine` after a
/// call releases them so late packets of the old call never reach a new one.
public final class MediaPortPool: Sendable {
    public struct Pair: Sendable, Hashable {
        public let rtp: Int
        public var rtcp: Int { rtp + 1 }
    }

    public let range: ClosedRange<Int>
    public let quarantine: Duration

    private struct State {
        var inUse: Set<Int> = []
        /// RTP port → when it may be used again.
        var quarantined: [Int: ContinuousClock.Instant] = [:]
        var generator = SystemRandomNumberGenerator()
    }

    private let state = Mutex(State())
    private let clock = ContinuousClock()

    /// - Parameter range: the configured ports; an odd lower bound is rounded up, and a pair needs
    ///   both its ports inside the range.
    public init(range: ClosedRange<Int>, quarantine: Duration) {
        self.range = range
        self.quarantine = quarantine
    }

    /// Pairs the range holds.
    public var capacity: Int {
        let first = range.lowerBound + range.lowerBound % 2
        return first + 1 > range.upperBound ? 0 : (range.upperBound - first - 1) / 2 + 1
    }

    /// Pairs now allocated.
    public var allocated: Int { state.withLock { $0.inUse.count } }

    /// Pairs now held back after release.
    public var inQuarantine: Int {
        let now = clock.now
        return state.withLock { state in state.quarantined.values.filter { $0 > now }.count }
    }

    /// A free pair, or nil when every pair is in use or in quarantine. `excluding` skips pairs the
    /// caller found it could not bind (something outside the edge holds them).
    public func allocate(excluding: Set<Int> = []) -> Pair? {
        let capacity = self.capacity
        guard capacity > 0 else { return nil }
        let first = range.lowerBound + range.lowerBound % 2
        let now = clock.now
        return state.withLock { state in
            // Random probes find a free pair quickly while the pool is mostly free; a scan from a
            // random start then finds the last ones without bias towards low ports.
            for _ in 0..<16 {
                let port = first + 2 * Int.random(in: 0..<capacity, using: &state.generator)
                if Self.isFree(port, in: &state, now: now, excluding: excluding) { return take(port, in: &state) }
            }
            let start = Int.random(in: 0..<capacity, using: &state.generator)
            for offset in 0..<capacity {
                let port = first + 2 * ((start + offset) % capacity)
                if Self.isFree(port, in: &state, now: now, excluding: excluding) { return take(port, in: &state) }
            }
            return nil
        }
    }

    /// Returns a pair to the pool; it can be allocated again after the quarantine.
    public func release(_ pair: Pair) {
        let until = clock.now.advanced(by: quarantine)
        state.withLock { state in
            guard state.inUse.remove(pair.rtp) != nil else { return }
            state.quarantined[pair.rtp] = until
        }
    }

    private static func isFree(_ port: Int, in state: inout State, now: ContinuousClock.Instant, excluding: Set<Int>) -> Bool {
        guard !state.inUse.contains(port), !excluding.contains(port) else { return false }
        if let until = state.quarantined[port] {
            guard until <= now else { return false }
            state.quarantined[port] = nil
        }
        return true
    }

    private func take(_ port: Int, in state: inout State) -> Pair {
        state.inUse.insert(port)
        return Pair(rtp: port)
    }
}
