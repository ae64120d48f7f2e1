import SDP

/// What the call layer needs from the configuration.
public struct CallSettings: Sendable {
    /// The address the edge's SDP names for the relay; nil: the local address of each leg's
    /// signalling flow, right when the relay listens on every address.
    public var mediaAddress: String?
    /// A callee that neither answers nor refuses within this time is cancelled (`480`).
    public var ringTimeout: Duration
    /// How long a BYE or CANCEL the edge sends may wait for its answer.
    public var requestDeadline: Duration
    /// The most calls up at once; more get `503` with Retry-After.
    public var maximumCalls: Int
    /// The SRTP suite the edge offers on legs it originates (the peer's own suite is answered in kind).
    public var offeredSuite: CryptoSuite
    public var serverName: String
    /// Calls to and from the call manager; nil without a trunk.
    public var trunk: TrunkCallSettings?
    /// RFC 4028: the shortest session interval the edge accepts (`Min-SE`; 90 s is the RFC's
    /// floor) and the one it asks for on the legs it places.
    public var minimumSessionExpires: Int
    public var sessionExpires: Int

    public init(
        mediaAddress: String? = nil, ringTimeout: Duration = .seconds(120), requestDeadline: Duration = .seconds(8), maximumCalls: Int = 2_000,
        offeredSuite: CryptoSuite = .aesCM128HMACSHA1_80, serverName: String = "Outpost", trunk: TrunkCallSettings? = nil,
        minimumSessionExpires: Int = 90, sessionExpires: Int = 1800
    ) {
        self.minimumSessionExpires = minimumSessionExpires
        self.sessionExpires = sessionExpires
        self.trunk = trunk
        self.mediaAddress = mediaAddress
        self.ringTimeout = ringTimeout
        self.requestDeadline = requestDeadline
        self.maximumCalls = maximumCalls
        self.offeredSuite = offeredSuite
        self.serverName = serverName
    }
}

/// How the edge carries calls over the trunk.
public struct TrunkCallSettings: Sendable {
    /// The host of the Request-URI, From and To of the calls the edge sends the call manager.
    public var domain: String
    /// What the edge offers and accepts on the trunk's media: SRTP unless told otherwise, because
    /// IPsec protects the trunk's signalling but not the media's path.
    public var mediaSecurity: LegMediaSecurity
    /// Whether the trunk's signalling is IPsec-protected, so that a leg over it counts as secure
    /// signalling although it is not TLS.
    public var signallingProtected: Bool

    public init(domain: String, mediaSecurity: LegMediaSecurity = .srtpRequired, signallingProtected: Bool) {
        self.domain = domain
        self.mediaSecurity = mediaSecurity
        self.signallingProtected = signallingProtected
    }
}
