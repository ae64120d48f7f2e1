/// An SRTP master key followed by its master salt (RFC 3711 §8.2), with the suite it is for,
/// checked for the suite's length when it is made.
///
/// Its `description`, `debugDescription` and mirror name the suite only, so that logging,
/// string interpolation or `dump` of a key, or of a value holding one, never prints key bytes.
/// `bytes` is there for the two places that need them: the SDP `inline:` parameter and libsrtp.
/// Equal keys are found by a comparison that reads every byte, so the time it takes tells nothing
/// about where two keys differ (the relay compares a re-INVITE's key with the one in use).
public struct SRTPMasterKey: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
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

    public static func == (left: SRTPMasterKey, right: SRTPMasterKey) -> Bool {
        guard left.suite == right.suite, left.bytes.count == right.bytes.count else { return false }
        var difference: UInt8 = 0
        for index in left.bytes.indices { difference |= left.bytes[index] ^ right.bytes[index] }
        return difference == 0
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(suite)
        hasher.combine(bytes)
    }

    public var description: String { "SRTPMasterKey(\(suite), <redacted>)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["suite": suite], displayStyle: .struct) }
}
