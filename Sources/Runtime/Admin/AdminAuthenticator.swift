import Foundation
import PKI
import Synchronization

/// HTTP Basic (RFC 7617) against the configured user and password hash. PBKDF2 is slow on
/// purpose, so a browser refreshing the page every few seconds would redo it every time: an
/// accepted Authorization header is remembered (by its HMAC under a key of this process) for a
/// while. Verification runs off the event loops; failures are counted.
final class AdminAuthenticator: Sendable {
    static let realm = "Outpost"
    static let rememberFor: Duration = .seconds(300)
    static let rememberedLimit = 64

    private let username: String
    private let hash: PasswordHash?
    private let certificateNames: Set<String>
    private let key: [UInt8]
    private let accepted = Mutex<[String: ContinuousClock.Instant]>([:])
    private let failures = Atomic<Int>(0)

    init(username: String, hash: PasswordHash?, certificateNames: [String]) {
        self.username = username
        self.hash = hash
        self.certificateNames = Set(certificateNames)
        key = (try? SecureRandom.bytes(32)) ?? Array(UUID().uuidString.utf8)
    }

    var failedAttempts: Int { failures.load(ordering: .relaxed) }

    /// Whether the client is let in: by the names of the certificate it presented over TLS (the
    /// handshake verified it against the trust roots), or by `authorization` (the header's value)
    /// naming the user with the right password. No header is no attempt (a browser asks without
    /// one first); a wrong one is counted.
    func admits(certificateNames presented: [String], authorization: String?) -> Bool {
        if !certificateNames.isDisjoint(with: presented) { return true }
        guard let hash, let authorization else { return false }
        guard authorization.count <= 1_024 else { return fail() }
        let fingerprint = (try? OpenSSLDigests.hmacSHA256(key: key, message: Array(authorization.utf8)))
            .map { Data($0).base64EncodedString() } ?? ""
        let now = ContinuousClock.now
        if accepted.withLock({ $0[fingerprint].map { now - $0 < Self.rememberFor } ?? false }) { return true }
        guard let (user, password) = Self.credentials(authorization), user == username, hash.verifies(password) else { return fail() }
        accepted.withLock { accepted in
            accepted = accepted.filter { now - $0.value < Self.rememberFor }
            if accepted.count >= Self.rememberedLimit { accepted.removeAll() }
            accepted[fingerprint] = now
        }
        return true
    }

    private func fail() -> Bool {
        failures.add(1, ordering: .relaxed)
        return false
    }

    /// `Basic dXNlcjpwYXNz` → ("user", "pass").
    static func credentials(_ header: String) -> (String, String)? {
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "basic", let decoded = Data(base64Encoded: String(parts[1])),
            let text = String(data: decoded, encoding: .utf8), let colon = text.firstIndex(of: ":"),
            // HMAC pads its key with zeros, so "secret\0" would pass PBKDF2 as "secret".
            !text.contains("\u{0}")
        else { return nil }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }
}
