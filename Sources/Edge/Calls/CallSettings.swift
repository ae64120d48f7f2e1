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

    public init(
        mediaAddress: String? = nil, ringTimeout: Duration = .seconds(120), requestDeadline: Duration = .seconds(8), maximumCalls: Int = 2_000,
        offeredSuite: CryptoSuite = .aesCM128HMACSHA1_80, serverName: String = "Outpost"
    ) {
        self.mediaAddress = mediaAddress
        self.ringTimeout = ringTimeout
        self.requestDeadline = requestDeadline
        self.maximumCalls = maximumCalls
        self.offeredSuite = offeredSuite
        self.serverName = serverName
    }
}
