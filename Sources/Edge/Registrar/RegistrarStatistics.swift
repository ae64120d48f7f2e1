import Synchronization

/// What the registrar did, counted: one counter per outcome, so every refusal is visible.
public final class RegistrarStatistics: Sendable {
    public enum Counter: String, CaseIterable, Sendable, Codable {
        case registered, unregistered, queried, relayed, relayedAccepted, relayFailures, handedBack, handBackFailures
        case upstreamRefreshed, upstreamRefreshFailures, loops, tooManyHops
        case challenged, staleNonces, replays, wrongCredentials, certificateMismatches, tlsRequired
        case intervalTooBrief, badRequests, rateLimited, storeFailures, expired
        /// Digest answers refused unchecked because their account or source must still wait.
        case guessesRefused
        /// Accounts and sources locked out after too many failures.
        case lockouts
    }

    private let values = Mutex([Int](repeating: 0, count: Counter.allCases.count))

    public init() {}

    public func increment(_ counter: Counter, by amount: Int = 1) {
        let index = Counter.allCases.firstIndex(of: counter)!
        values.withLock { $0[index] += amount }
    }

    public subscript(counter: Counter) -> Int { values.withLock { $0[Counter.allCases.firstIndex(of: counter)!] } }

    public func snapshot() -> [String: Int] {
        let current = values.withLock { $0 }
        return Dictionary(uniqueKeysWithValues: zip(Counter.allCases.map(\.rawValue), current))
    }
}
