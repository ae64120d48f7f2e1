import Testing

@testable import Edge

/// Issue 16 §3: failures per account and per source slow guessing exponentially, then lock the
/// key out for a while; success clears the account. The clock is a number the test moves.
@Suite struct GuessingGuardTests {
    static let settings = GuessingSettings(freeFailures: 3, baseBackOff: 1, maximumBackOff: 16, lockoutFailures: 8, lockoutSeconds: 300)

    @Test func theFirstFailuresAreFreeThenEachWaitDoubles() {
        var guarding = GuessingGuard(settings: Self.settings)
        var now: Int64 = 1000
        for _ in 0..<3 {
            #expect(guarding.admit(account: "3001", source: "192.0.2.9", now: now) == .check)
            #expect(guarding.recordFailure(account: "3001", source: "192.0.2.9", now: now).isEmpty)
        }
        // Three free failures; the fourth attempt must wait 1 s, the next 2 s, then 4 s.
        #expect(guarding.admit(account: "3001", source: "192.0.2.9", now: now) == .refuse(until: now + 1))
        for wait: Int64 in [1, 2, 4] {
            now += wait - 1
            #expect(guarding.admit(account: "3001", source: "192.0.2.9", now: now) != .check)
            now += 1
            #expect(guarding.admit(account: "3001", source: "192.0.2.9", now: now) == .check)
            _ = guarding.recordFailure(account: "3001", source: "192.0.2.9", now: now)
        }
        #expect(guarding.admit(account: "3001", source: "192.0.2.9", now: now + 7) != .check)
        #expect(guarding.admit(account: "3001", source: "192.0.2.9", now: now + 8) == .check)
    }

    /// The account is tracked whatever the source: five addresses do not get five times the guesses.
    @Test func anAccountIsSlowedAcrossSources() {
        var guarding = GuessingGuard(settings: Self.settings)
        for index in 0..<3 { _ = guarding.recordFailure(account: "3001", source: "192.0.2.\(index)", now: 0) }
        #expect(guarding.admit(account: "3001", source: "192.0.2.77", now: 0) == .refuse(until: 1))
        #expect(guarding.admit(account: "3002", source: "192.0.2.77", now: 0) == .check)
    }

    /// A source is tracked whatever the account: spraying many lines is slowed too.
    @Test func aSourceIsSlowedAcrossAccounts() {
        var guarding = GuessingGuard(settings: Self.settings)
        for index in 0..<3 { _ = guarding.recordFailure(account: "30\(index)", source: "192.0.2.9", now: 0) }
        #expect(guarding.admit(account: "4000", source: "192.0.2.9", now: 0) == .refuse(until: 1))
        #expect(guarding.admit(account: "4000", source: "192.0.2.10", now: 0) == .check)
    }

    @Test func afterNFailuresTheKeyIsLockedOutOnceThenReleased() {
        var guarding = GuessingGuard(settings: Self.settings)
        var now: Int64 = 0
        var lockouts: [GuessingGuard.Lockout] = []
        for _ in 0..<8 {
            now += 60  // past every back-off
            #expect(guarding.admit(account: "3001", source: "192.0.2.9", now: now) == .check)
            lockouts += guarding.recordFailure(account: "3001", source: "192.0.2.9", now: now)
        }
        #expect(lockouts == [.init(key: .account("3001"), failures: 8, until: now + 300), .init(key: .source("192.0.2.9"), failures: 8, until: now + 300)])
        #expect(guarding.admit(account: "3001", source: "192.0.2.200", now: now + 299) == .refuse(until: now + 300))
        #expect(guarding.isLockedOut(.account("3001"), now: now + 299))
        #expect(guarding.admit(account: "3001", source: "192.0.2.200", now: now + 300) == .check)
        // Released with a clean slate: the free failures are free again.
        #expect(guarding.recordFailure(account: "3001", source: "192.0.2.200", now: now + 300).isEmpty)
        #expect(guarding.admit(account: "3001", source: "192.0.2.200", now: now + 300) == .check)
    }

    @Test func backOffIsCappedAndSuccessClearsTheAccount() {
        var guarding = GuessingGuard(settings: GuessingSettings(freeFailures: 1, baseBackOff: 1, maximumBackOff: 4, lockoutFailures: 100, lockoutSeconds: 300))
        for _ in 0..<10 { _ = guarding.recordFailure(account: "3001", source: "192.0.2.9", now: 0) }
        #expect(guarding.admit(account: "3001", source: "192.0.2.8", now: 0) == .refuse(until: 4))
        guarding.recordSuccess(account: "3001", source: "192.0.2.8")
        #expect(guarding.admit(account: "3001", source: "192.0.2.8", now: 0) == .check)
        // The guessing source stays slowed.
        #expect(guarding.admit(account: "3002", source: "192.0.2.9", now: 0) == .refuse(until: 4))
    }

    /// Bounded memory: when the table is full, entries without a failure for a lockout period are
    /// forgotten first, then the oldest.
    @Test func theTableIsBounded() {
        var guarding = GuessingGuard(settings: Self.settings, capacity: 4)
        for index in 0..<2 { _ = guarding.recordFailure(account: "a\(index)", source: "s\(index)", now: 0) }
        #expect(guarding.count == 4)
        _ = guarding.recordFailure(account: "a9", source: "s9", now: 10_000)
        #expect(guarding.count == 2)
        #expect(guarding.admit(account: "a0", source: "s0", now: 10_000) == .check)
    }

    @Test func settingsAreChecked() {
        #expect(GuessingSettings(freeFailures: 3, baseBackOff: 1, maximumBackOff: 16, lockoutFailures: 8, lockoutSeconds: 300).problem == nil)
        #expect(GuessingSettings(freeFailures: 9, baseBackOff: 1, maximumBackOff: 16, lockoutFailures: 8, lockoutSeconds: 300).problem != nil)
        #expect(GuessingSettings(freeFailures: 1, baseBackOff: 10, maximumBackOff: 5, lockoutFailures: 8, lockoutSeconds: 300).problem != nil)
    }
}
