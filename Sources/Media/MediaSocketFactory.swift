import NIOCore

/// Opens the relay's UDP sockets. The relay works on NIOCore alone; the runtime supplies this
/// over NIOPosix's datagram bootstrap, so nothing above it opens a socket itself.
public protocol MediaSocketFactory: Sendable {
    /// Binds a UDP socket to `host:port` on `loop`, running `initializer` on it before it reads.
    func bindUDP(
        host: String, port: Int, on loop: any EventLoop,
        initializer: @escaping @Sendable (any Channel) -> EventLoopFuture<Void>
    ) -> EventLoopFuture<any Channel>
}

/// Why the relay could not do what the call layer asked.
public enum MediaError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Every port pair of the range is in use or in quarantine.
    case noPortsAvailable(range: ClosedRange<Int>)
    /// The ports could not be bound (something outside the edge holds them), after `attempts` tries.
    case bindFailed(attempts: Int, reason: String)
    case noSuchLeg(Int)
    case released
    /// libsrtp refused a key or could not create a session.
    case srtp(String)
    /// The leg has not negotiated telephone-event, or has no peer to send to.
    case cannotSendTelephoneEvent(leg: Int, reason: String)
    case noRandomness(String)

    public var description: String {
        switch self {
        case .noPortsAvailable(let range): "no free media port pair in \(range.lowerBound)-\(range.upperBound)"
        case .bindFailed(let attempts, let reason): "could not bind a media port pair after \(attempts) attempts: \(reason)"
        case .noSuchLeg(let leg): "the call has no leg \(leg)"
        case .released: "the call's media was released"
        case .srtp(let reason): "SRTP: \(reason)"
        case .cannotSendTelephoneEvent(let leg, let reason): "cannot send a telephone event on leg \(leg): \(reason)"
        case .noRandomness(let reason): "no random key material: \(reason)"
        }
    }
}
