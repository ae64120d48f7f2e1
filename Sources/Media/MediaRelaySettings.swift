/// The relay's configuration (the `media:` section).
public struct MediaRelaySettings: Sendable, Hashable {
    /// The address the relay's sockets bind to.
    public var bindHost: String
    /// The UDP ports calls may use (even RTP, odd RTCP).
    public var ports: ClosedRange<Int>
    /// How long released ports are held back.
    public var quarantine: Duration
    /// No RTP from an active leg's peer for this long (from answer or its last packet) raises a timeout.
    public var mediaTimeout: Duration
    /// The same for a held leg (its peer sends nothing), counting RTCP too.
    public var holdTimeout: Duration
    /// After each offer/answer, how long a leg may learn its peer's real source address.
    public var latchingWindow: Duration
    /// Packets in each inbound SRTP replay window (libsrtp accepts 64…32768).
    public var replayWindow: Int

    public init(
        bindHost: String = "0.0.0.0", ports: ClosedRange<Int> = 16_384...32_767, quarantine: Duration = .seconds(30),
        mediaTimeout: Duration = .seconds(60), holdTimeout: Duration = .seconds(3_600), latchingWindow: Duration = .seconds(10),
        replayWindow: Int = 1_024
    ) {
        self.bindHost = bindHost
        self.ports = ports
        self.quarantine = quarantine
        self.mediaTimeout = mediaTimeout
        self.holdTimeout = holdTimeout
        self.latchingWindow = latchingWindow
        self.replayWindow = replayWindow
    }
}
