/// An SRTP master key followed by its master salt (RFC 3711 §8.2), with the suite it is for,
/// checked for the suite's length when it is made.
///
/// Its `description`, `debugDescription` and mirror name the suite only, so that logging,
/// string interpolation or `dump` of a key, or of a value holding one, never prints key bytes.
/// `bytes` is there for the two places that need them: the SDP `inline:` parameter and libsrtp.
/// Not `Equatable`, so that keys are not compared with a short-circuiting `==`.
public struct SRTPMasterKey: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public let suite: SRTPSuite
    /// Master key || master salt, `suite.keyAndSaltLength` bytes.
    public let bytes: [UInt8]

    /// A key from received or stored material (for example an SDES `inline:` key, base64-decoded).
    public init(suite: SRTPSuite, bytes: [UInt8]) throws(SRTPError) {
        guard bytes.count == suite.keyAndSaltLength else {
            throw .badKeyLength(suite: suite, expected: suite.keyAndSaltLength, actual: bytes.count)
        }
        self.suite = suite
        self.bytes = bytes
    }

    /// A fresh key for `suite`. SRTP does not link a random generator of its own: the caller
    /// passes one that returns the number of cryptographically secure bytes asked for (the edge
    /// uses PKI's `SecureRandom.bytes`, OpenSSL's DRBG). Throws the generator's error, or
    /// `SRTPError.badKeyLength` if it returns the wrong number of bytes.
    public init(suite: SRTPSuite, randomBytes: (Int) throws -> [UInt8]) throws {
        try self.init(suite: suite, bytes: randomBytes(suite.keyAndSaltLength))
    }

    /// The master key alone (`suite.keyLength` bytes).
    public var masterKey: ArraySlice<UInt8> { bytes.prefix(suite.keyLength) }
    /// The master salt alone (`suite.saltLength` bytes).
    public var masterSalt: ArraySlice<UInt8> { bytes.suffix(suite.saltLength) }

    public var description: String { "SRTPMasterKey(\(suite), <redacted>)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["suite": suite], displayStyle: .struct) }
}
