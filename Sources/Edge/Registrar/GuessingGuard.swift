/// How hard online password guessing is made (the `registrar:` section's `guessing` keys).
public struct GuessingSettings: Sendable, Hashable {
    /// Failures a key may have before each further attempt must wait.
    public var freeFailures: Int
    /// Seconds the first wait lasts; each further failure doubles it, up to `maximumBackOff`.
    public var baseBackOff: Int
    public var maximumBackOff: Int
    /// Failures after which the key is locked out for `lockoutSeconds`.
    public var lockoutFailures: Int
    public var lockoutSeconds: Int

    public init(freeFailures: Int = 3, baseBackOff: Int = 1, maximumBackOff: Int = 60, lockoutFailures: Int = 10, lockoutSeconds: Int = 300) {
        self.freeFailures = freeFailures
        self.baseBackOff = baseBackOff
        self.maximumBackOff = maximumBackOff
        self.lockoutFailures = lockoutFailures
        self.lockoutSeconds = lockoutSeconds
    }

    /// Why these settings cannot work, or nil.
    public var problem: String? {
        if freeFailures < 0 || baseBackOff < 1 || lockoutSeconds < 1 { return "free_failures must be ≥ 0, base_backoff and lockout_seconds ≥ 1" }
        if baseBackOff > maximumBackOff { return "base_backoff must not exceed max_backoff" }
        if lockoutFailures <= freeFailures { return "lockout_failures must be greater than free_failures" }
        return nil
    }
}

/// Failed digest answers counted per account (the address of record, existing or not) and per
/// source address. Past `freeFailures` a key must wait before its next attempt is even checked,
/// the wait doubling with each failure; at `lockoutFailures` it is locked out for a while. An
/// attempt that must wait is refused unchecked, so a guess sent early is wasted whatever it is.
///
/// Only digest attempts are counted: a phone that registers over TLS with its certificate never
/// reaches this table, so no one's guessing over UDP can lock it out. Pure: the caller gives the
/// time (seconds), and nothing here sleeps.
public struct GuessingGuard: Sendable {
    public enum Key: Hashable, Sendable, CustomStringConvertible {
        case account(String)
        case source(String)

        public var description: String {
            switch self {
            case .account(let name): "account \(name)"
            case .source(let address): "source \(address)"
            }
        }
    }

    public enum Admission: Equatable, Sendable {
        /// Check the credentials.
        case check
        /// Refuse without checking; the key may try again at `until`.
        case refuse(until: Int64)
    }

    /// A key that has just been locked out (reported once per lockout).
    public struct Lockout: Equatable, Sendable {
        public var key: Key
        public var failures: Int
        public var until: Int64
    }

    private struct Entry {
        var failures = 0
        var lastFailure: Int64 = 0
        var lockedUntil: Int64?
    }

    public let settings: GuessingSettings
    private let capacity: Int
    private var entries: [Key: Entry] = [:]

    public init(settings: GuessingSettings, capacity: Int = 20_000) {
        self.settings = settings
        self.capacity = max(2, capacity)
    }

    /// How many keys are tracked.
    public var count: Int { entries.count }

    public func isLockedOut(_ key: Key, now: Int64) -> Bool {
        guard let entry = live(key, now: now), let until = entry.lockedUntil else { return false }
        return until > now
    }

    /// Whether an attempt for `account` from `source` may be checked now.
    public func admit(account: String, source: String, now: Int64) -> Admission {
        let until = max(blockedUntil(.account(account), now: now), blockedUntil(.source(source), now: now))
        return until > now ? .refuse(until: until) : .check
    }

    /// A wrong answer: counts it for both keys; returns the keys it has just locked out.
    public mutating func recordFailure(account: String, source: String, now: Int64) -> [Lockout] {
        [Key.account(account), .source(source)].compactMap { fail($0, now: now) }
    }

    /// A right answer clears the account (not the source: a guesser could otherwise mix in an
    /// account it knows to reset its address).
    public mutating func recordSuccess(account: String, source: String) {
        entries[.account(account)] = nil
    }

    /// The entry, unless it has lapsed: a lockout that has ended, or no failure for a lockout period.
    private func live(_ key: Key, now: Int64) -> Entry? {
        guard let entry = entries[key] else { return nil }
        if let until = entry.lockedUntil { return until > now ? entry : nil }
        return now - entry.lastFailure >= Int64(settings.lockoutSeconds) ? nil : entry
    }

    private func blockedUntil(_ key: Key, now: Int64) -> Int64 {
        guard let entry = live(key, now: now) else { return 0 }
        if let until = entry.lockedUntil { return until }
        guard entry.failures >= settings.freeFailures else { return 0 }
        let doublings = min(entry.failures - settings.freeFailures, 30)
        let wait = min(Int64(settings.maximumBackOff), Int64(settings.baseBackOff) << doublings)
        return entry.lastFailure + wait
    }

    private mutating func fail(_ key: Key, now: Int64) -> Lockout? {
        var entry = live(key, now: now) ?? Entry()
        if entries[key] == nil, entries.count >= capacity { makeRoom(now: now) }
        entry.failures += 1
        entry.lastFailure = now
        var lockout: Lockout?
        if entry.lockedUntil == nil, entry.failures >= settings.lockoutFailures {
            let until = now + Int64(settings.lockoutSeconds)
            entry.lockedUntil = until
            lockout = Lockout(key: key, failures: entry.failures, until: until)
        }
        entries[key] = entry
        return lockout
    }

    private mutating func makeRoom(now: Int64) {
        entries = entries.filter { live($0.key, now: now) != nil }
        while entries.count >= capacity, let oldest = entries.min(by: { $0.value.lastFailure < $1.value.lastFailure }) {
            entries[oldest.key] = nil
        }
    }
}
