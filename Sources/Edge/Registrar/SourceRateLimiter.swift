/// A token bucket per source address: `rate` requests a second with bursts of `rate`. The table
/// is bounded: when full, buckets that have refilled are forgotten first.
public struct SourceRateLimiter: Sendable {
    private var buckets: [String: (tokens: Double, updated: ContinuousClock.Instant)] = [:]
    private let rate: Double
    private let capacity: Int

    public init(ratePerSecond: Int, capacity: Int = 10_000) {
        self.rate = Double(max(1, ratePerSecond))
        self.capacity = capacity
    }

    /// Whether one more request from `source` is allowed now.
    public mutating func admit(_ source: String, now: ContinuousClock.Instant) -> Bool {
        var bucket = buckets[source] ?? (rate, now)
        let seconds = bucket.updated.duration(to: now) / .seconds(1)
        bucket.tokens = min(rate, bucket.tokens + seconds * rate)
        bucket.updated = now
        guard bucket.tokens >= 1 else {
            buckets[source] = bucket
            return false
        }
        bucket.tokens -= 1
        if buckets[source] == nil, buckets.count >= capacity { forgetRefilled(now: now) }
        if buckets[source] != nil || buckets.count < capacity { buckets[source] = bucket }
        return true
    }

    private mutating func forgetRefilled(now: ContinuousClock.Instant) {
        buckets = buckets.filter { now - $0.value.updated < .seconds(1) }
    }
}
