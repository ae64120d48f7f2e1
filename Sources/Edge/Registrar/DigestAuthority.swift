import SIP

/// Issues digest challenges and checks answers (RFC 3261 §22, RFC 7616, RFC 8760).
///
/// Nonces carry their issue time and an HMAC under a per-process key, so any nonce the edge
/// issued is recognised without a table; only nonce counts are remembered, to refuse replays
/// (`nc` must grow for each nonce, and an answer without `qop=auth` is refused).
///
/// Hashes and the nonce HMAC are `hashing`'s (OpenSSL's EVP, given by Runtime), so an algorithm
/// the provider refuses (MD5 in FIPS mode) authenticates no one.
public struct DigestAuthority: Sendable {
    public enum Verdict: Equatable, Sendable {
        case authenticated
        /// Wrong credentials, unknown user: the same answer for both, by design.
        case refused
        /// The nonce is too old or was not ours; a fresh challenge follows (`stale=true` when it was ours).
        case challengeAgain(stale: Bool)
        /// The nonce count did not grow: someone replays a captured request.
        case replayed
    }

    private let key: [UInt8]
    /// Checked against when a user has no password here, so refusing costs what checking does.
    private let dummyPassword: String
    private let realm: String
    private let lifetime: Int64
    private let capacity: Int
    private let algorithms: [SIPDigestAlgorithm]
    private let hashing: DigestHashing
    private var nonceCounts: [String: (issued: Int64, count: UInt32)] = [:]

    public init(
        realm: String, lifetime: Int, algorithms: [SIPDigestAlgorithm] = [.sha256, .md5], hashing: DigestHashing, capacity: Int = 100_000
    ) {
        self.algorithms = algorithms
        self.hashing = hashing
        var generator = SystemRandomNumberGenerator()
        self.key = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        self.dummyPassword = Self.hex((0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) })
        self.realm = realm
        self.lifetime = Int64(lifetime)
        self.capacity = capacity
    }

    /// `WWW-Authenticate` values, one per algorithm in order of preference (RFC 8760 §2.4).
    public func challenges(now: Int64, stale: Bool = false) -> [DigestChallenge] {
        let nonce = makeNonce(now: now)
        return algorithms.map {
            DigestChallenge(realm: realm, nonce: nonce, algorithm: $0, qopOptions: ["auth"], stale: stale)
        }
    }

    /// Checks `credentials` for `method` against the password's HA1 for the credentials' algorithm.
    public mutating func verify(_ credentials: DigestCredentials, method: String, password: String?, expectedUsername: String?, now: Int64) -> Verdict {
        guard credentials.realm == realm, let issued = issueTime(of: credentials.nonce) else { return .challengeAgain(stale: false) }
        guard now - issued <= lifetime else {
            nonceCounts[credentials.nonce] = nil
            return .challengeAgain(stale: true)
        }
        guard credentials.qop?.lowercased() == "auth", let count = credentials.nonceCountValue, credentials.cnonce != nil else {
            return .refused
        }
        let algorithm = credentials.effectiveAlgorithm
        // The same work for every answer that gets this far: an unknown user, a line that takes
        // no password, a wrong user name and a wrong password each cost one HA1 and one response
        // hash (against a per-process random password when there is no real one), so neither
        // the verdict nor the time it takes says which of them it was.
        let known = password != nil && expectedUsername != nil && credentials.username == expectedUsername
        let secret = known ? password ?? dummyPassword : dummyPassword
        let ha1 = try? algorithm.ha1(username: credentials.username, realm: realm, password: secret, using: hashing)
        let matches = ha1.map { DigestVerifier.verify(credentials, method: method, storedHA1: $0, using: hashing) } ?? false
        guard known, algorithms.contains(algorithm), matches else { return .refused }
        if let previous = nonceCounts[credentials.nonce], count <= previous.count { return .replayed }
        if nonceCounts.count >= capacity { forgetExpired(now: now) }
        guard nonceCounts.count < capacity else { return .challengeAgain(stale: true) }
        nonceCounts[credentials.nonce] = (issued, count)
        return .authenticated
    }

    public mutating func forgetExpired(now: Int64) {
        nonceCounts = nonceCounts.filter { now - $0.value.issued <= lifetime }
    }

    private func makeNonce(now: Int64) -> String {
        var generator = SystemRandomNumberGenerator()
        var body = withUnsafeBytes(of: UInt64(bitPattern: now).bigEndian, Array.init)
        body += withUnsafeBytes(of: generator.next() as UInt64, Array.init)
        // Should the HMAC ever fail, the nonce goes out without a tag: `issueTime` then refuses
        // it (wrong length), so nothing is authenticated on an unsigned nonce.
        let tag = (try? hashing.hmacSHA256(key: key, message: body + Array(realm.utf8)))?.prefix(16) ?? []
        return Self.hex(body + tag)
    }

    private func issueTime(of nonce: String) -> Int64? {
        guard nonce.utf8.count == 64, let bytes = Self.bytes(hex: nonce) else { return nil }
        let body = Array(bytes[0..<16])
        guard let expected = (try? hashing.hmacSHA256(key: key, message: body + Array(realm.utf8)))?.prefix(16) else { return nil }
        var difference: UInt8 = 0
        for (lhs, rhs) in zip(expected, bytes[16...]) { difference |= lhs ^ rhs }
        guard difference == 0 else { return nil }
        return Int64(bitPattern: body[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0xF)]] }, as: UTF8.self)
    }

    private static func bytes(hex: String) -> [UInt8]? {
        var result: [UInt8] = []
        var high: UInt8?
        for character in hex.utf8 {
            let value: UInt8
            switch character {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = character - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = character - UInt8(ascii: "a") + 10
            default: return nil
            }
            if let first = high {
                result.append(first << 4 | value)
                high = nil
            } else {
                high = value
            }
        }
        return result
    }
}
