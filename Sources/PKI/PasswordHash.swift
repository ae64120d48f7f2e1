internal import COpenSSL
import Foundation

/// The admin page's password, stored only as `pbkdf2-sha256$<iterations>$<salt>$<hash>` (salt and
/// hash in base64), the form Django and Passlib write: PBKDF2-HMAC-SHA256 (RFC 8018) through
/// OpenSSL, compared in constant time.
public struct PasswordHash: Sendable, Equatable, CustomStringConvertible {
    public static let defaultIterations = 600_000
    public let iterations: Int
    public let salt: [UInt8]
    public let hash: [UInt8]

    public enum Problem: Error, Equatable, CustomStringConvertible {
        case malformed(String)
        case derivationFailed

        public var description: String {
            switch self {
            case .malformed(let why): "not a password hash (pbkdf2-sha256$ITERATIONS$SALT$HASH): \(why)"
            case .derivationFailed: "OpenSSL could not derive the key"
            }
        }
    }

    /// Parses the stored form.
    public init(parsing text: String) throws(Problem) {
        let parts = text.split(separator: "$", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 4, parts[0] == "pbkdf2-sha256" else { throw .malformed("expected four fields, the first pbkdf2-sha256") }
        guard let iterations = Int(parts[1]), (1_000...100_000_000).contains(iterations) else {
            throw .malformed("iterations must be a number from 1000 to 100000000")
        }
        guard let salt = Data(base64Encoded: Self.padded(parts[2])), salt.count >= 8 else { throw .malformed("the salt must be base64, 8 bytes or more") }
        guard let hash = Data(base64Encoded: Self.padded(parts[3])), hash.count >= 16 else { throw .malformed("the hash must be base64, 16 bytes or more") }
        self.iterations = iterations
        self.salt = Array(salt)
        self.hash = Array(hash)
    }

    /// A new hash of `password` with a random salt.
    public static func make(password: String, iterations: Int = defaultIterations) throws -> PasswordHash {
        let salt = try SecureRandom.bytes(16)
        return PasswordHash(iterations: iterations, salt: salt, hash: try derive(password, salt: salt, iterations: iterations, length: 32))
    }

    private init(iterations: Int, salt: [UInt8], hash: [UInt8]) {
        self.iterations = iterations
        self.salt = salt
        self.hash = hash
    }

    /// Whether `password` is the one hashed.
    public func verifies(_ password: String) -> Bool {
        guard let candidate = try? Self.derive(password, salt: salt, iterations: iterations, length: hash.count) else { return false }
        return candidate.withUnsafeBytes { left in hash.withUnsafeBytes { right in CRYPTO_memcmp(left.baseAddress, right.baseAddress, hash.count) == 0 } }
    }

    public var description: String {
        "pbkdf2-sha256$\(iterations)$\(Data(salt).base64EncodedString())$\(Data(hash).base64EncodedString())"
    }

    static func derive(_ password: String, salt: [UInt8], iterations: Int, length: Int) throws(Problem) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: length)
        // A terminated copy, so even an empty password has an address to pass.
        let secret = password.utf8.map { CChar(bitPattern: $0) } + [0]
        let status = secret.withUnsafeBufferPointer { secret in
            salt.withUnsafeBufferPointer { salt in
                output.withUnsafeMutableBufferPointer { output in
                    PKCS5_PBKDF2_HMAC(
                        secret.baseAddress, Int32(secret.count - 1), salt.baseAddress, Int32(salt.count), Int32(iterations), EVP_sha256(),
                        Int32(length), output.baseAddress)
                }
            }
        }
        guard status == 1 else { throw .derivationFailed }
        return output
    }

    /// Passlib writes base64 without its `=` padding.
    private static func padded(_ text: String) -> String {
        text + String(repeating: "=", count: (4 - text.count % 4) % 4)
    }
}
