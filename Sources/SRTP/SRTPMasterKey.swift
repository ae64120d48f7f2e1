/// A master key and salt for one SRTP direction (RFC 3711 §8.2), checked against its suite.
/// Its description never shows the key.
public struct SRTPMasterKey: Sendable, Hashable, CustomStringConvertible {
    public let suite: SRTPSuite
    /// Master key followed by master salt, `suite.keyAndSaltLength` bytes.
    public let bytes: [UInt8]

    public init(suite: SRTPSuite, bytes: [UInt8]) throws(SRTPError) {
        guard bytes.count == suite.keyAndSaltLength else {
            throw .badKeyLength(suite: suite, expected: suite.keyAndSaltLength, actual: bytes.count)
        }
        self.suite = suite
        self.bytes = bytes
    }

    /// A fresh key from `randomBytes`, which must be a cryptographic generator (the edge passes
    /// OpenSSL's; this target does not link OpenSSL).
    public init<Failure: Error>(suite: SRTPSuite, randomBytes: (Int) throws(Failure) -> [UInt8]) throws(Failure) {
        let bytes = try randomBytes(suite.keyAndSaltLength)
        precondition(bytes.count == suite.keyAndSaltLength, "the random source returned \(bytes.count) bytes")
        self.suite = suite
        self.bytes = bytes
    }

    public var description: String { "\(suite) key (hidden)" }
}

extension SRTPSession {
    /// A session for `key` in `direction`; see `init(suite:masterKeyAndSalt:direction:ssrc:replayWindowSize:)`.
    public convenience init(key: SRTPMasterKey, direction: Direction, ssrc: UInt32? = nil, replayWindowSize: Int = 128) throws(SRTPError) {
        try self.init(suite: key.suite, masterKeyAndSalt: key.bytes, direction: direction, ssrc: ssrc, replayWindowSize: replayWindowSize)
    }
}
