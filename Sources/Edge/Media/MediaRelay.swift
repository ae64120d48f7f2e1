import SDP

/// What the call layer needs of the media relay: it anchors every call's media on the edge.
/// The relay (layer 3) provides it; the domain sees offers and answers, never sockets.
public protocol MediaRelay: Sendable {
    /// Reserves ports for a call with `legs` legs (two for a plain call).
    func allocate(callID: String, legs: Int) async throws -> any MediaSession
    /// Calls `handler` with every notice from now on (telephone events, media timeouts).
    func observe(_ handler: @escaping @Sendable (MediaNotice) -> Void)
}

/// One call's media.
public protocol MediaSession: Sendable {
    var callID: String { get }
    /// The relay's RTP port on each leg; RTCP is on the next port unless the leg muxes.
    var ports: [Int] { get }
    /// Applies a leg's latest offer or answer; returns what the edge's SDP on that leg must say.
    func update(leg: Int, _ description: MediaLegDescription) async throws -> MediaLegAnswer
    func setDirection(leg: Int, _ direction: MediaDirection) async throws
    /// Starts the media timeouts.
    func answered() async throws
    /// Sends an RFC 4733 event (0–9, 10 `*`, 11 `#`, 12–15 A–D, 16 flash) to the leg's peer.
    func sendTelephoneEvent(leg: Int, event: UInt8, duration: Duration) async throws
    /// Each leg's media quality so far, for the call record.
    func quality() async throws -> [MediaLegQuality]
    func release() async
}

/// What a call record keeps of one leg's media.
public struct MediaLegQuality: Sendable, Hashable, Codable {
    public var packetsReceived: UInt64
    public var packetsSent: UInt64
    /// RFC 3550 cumulative loss of what the peer sent, measured by the edge.
    public var lost: Int64
    public var jitterMilliseconds: Double
    public var authenticationFailures: UInt64
    public var wrongSource: UInt64
    /// What the peer reported in RTCP about what the edge sent it.
    public var peerReportedFractionLost: Double?
    public var peerReportedJitterMilliseconds: Double?
    public var encrypted: Bool

    public init(
        packetsReceived: UInt64, packetsSent: UInt64, lost: Int64, jitterMilliseconds: Double, authenticationFailures: UInt64,
        wrongSource: UInt64, peerReportedFractionLost: Double?, peerReportedJitterMilliseconds: Double?, encrypted: Bool
    ) {
        self.packetsReceived = packetsReceived
        self.packetsSent = packetsSent
        self.lost = lost
        self.jitterMilliseconds = jitterMilliseconds
        self.authenticationFailures = authenticationFailures
        self.wrongSource = wrongSource
        self.peerReportedFractionLost = peerReportedFractionLost
        self.peerReportedJitterMilliseconds = peerReportedJitterMilliseconds
        self.encrypted = encrypted
    }
}

/// A leg as its peer's SDP describes it.
public struct MediaLegDescription: Sendable, Hashable {
    public struct SRTP: Sendable, Hashable {
        /// The suite the edge sends with on this leg (RFC 4568 negotiates each leg on its own).
        public var suite: CryptoSuite
        /// The peer's master key and salt from its `a=crypto`; nil until it has answered.
        public var peerKeySalt: [UInt8]?

        public init(suite: CryptoSuite, peerKeySalt: [UInt8]?) {
            self.suite = suite
            self.peerKeySalt = peerKeySalt
        }
    }

    /// The peer's connection address and RTP port; nil address while not yet known.
    public var address: String?
    public var port: Int
    /// `a=rtcp` when the peer gives one.
    public var rtcpPort: Int?
    public var rtcpMux: Bool
    public var payloadFormats: [RTPMap]
    public var direction: MediaDirection
    /// nil: plain RTP, which only a device profile that allows it may get.
    public var srtp: SRTP?
    /// A plain-RTP phone behind NAT: learn its real address from its first packets.
    public var latchesPlainRTP: Bool

    public init(
        address: String?, port: Int, rtcpPort: Int? = nil, rtcpMux: Bool = false, payloadFormats: [RTPMap],
        direction: MediaDirection = .sendrecv, srtp: SRTP?, latchesPlainRTP: Bool = false
    ) {
        self.address = address
        self.port = port
        self.rtcpPort = rtcpPort
        self.rtcpMux = rtcpMux
        self.payloadFormats = payloadFormats
        self.direction = direction
        self.srtp = srtp
        self.latchesPlainRTP = latchesPlainRTP
    }
}

/// What the edge's SDP on a leg says about the relay's side.
public struct MediaLegAnswer: Sendable, Hashable {
    public var port: Int
    public var rtcpPort: Int { port + 1 }
    /// The suite and the edge's own fresh master key and salt for that leg's `a=crypto`; nil for plain RTP.
    public var suite: CryptoSuite?
    public var keySalt: [UInt8]?

    public init(port: Int, suite: CryptoSuite?, keySalt: [UInt8]?) {
        self.port = port
        self.suite = suite
        self.keySalt = keySalt
    }
}

/// What the relay reports to the call layer unasked.
public enum MediaNotice: Sendable, Hashable {
    case telephoneEvent(callID: String, leg: Int, event: UInt8, ended: Bool, durationMilliseconds: Int)
    case timeout(callID: String, leg: Int, reason: String)
}
