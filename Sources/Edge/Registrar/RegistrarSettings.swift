import SIP

/// The registrar's limits, from the configuration's `registrar` section.
public struct RegistrarSettings: Sendable, Hashable {
    public var realm: String
    public var minimumExpires: Int
    public var maximumExpires: Int
    public var defaultExpires: Int
    /// More Contacts than this for one address of record are refused.
    public var maximumBindingsPerAddress: Int
    /// Seconds a digest nonce stays valid.
    public var nonceLifetime: Int
    /// Offered in this order (RFC 8760: most preferred first); answers in others are refused.
    public var digestAlgorithms: [SIPDigestAlgorithm]
    /// Back-off and lockout for failed digest answers (per account and per source).
    public var guessing: GuessingSettings

    public init(
        realm: String = "outpost", minimumExpires: Int = 60, maximumExpires: Int = 3600, defaultExpires: Int = 3600,
        maximumBindingsPerAddress: Int = 10, nonceLifetime: Int = 300, digestAlgorithms: [SIPDigestAlgorithm] = [.sha256, .md5],
        guessing: GuessingSettings = GuessingSettings()
    ) {
        self.guessing = guessing
        self.digestAlgorithms = digestAlgorithms
        self.realm = realm
        self.minimumExpires = minimumExpires
        self.maximumExpires = maximumExpires
        self.defaultExpires = defaultExpires
        self.maximumBindingsPerAddress = maximumBindingsPerAddress
        self.nonceLifetime = nonceLifetime
    }
}
