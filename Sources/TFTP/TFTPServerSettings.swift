import NIOCore
import TFTPProtocol

/// Limits and timing of the TFTP server.
public struct TFTPServerSettings: Sendable, Hashable {
    /// The largest block and window sizes granted.
    public var limits: TFTPServerLimits
    /// Transfers at once, over all clients; more get ERROR 0 "too many transfers".
    public var maximumTransfers: Int
    /// Transfers at once from one client address.
    public var maximumTransfersPerClient: Int
    /// The retransmission timeout when the client negotiates none.
    public var timeout: Duration
    /// Retransmissions without progress before a transfer is abandoned and its slot freed.
    public var retries: Int
    /// The most one transfer may take from its start, whatever timeout the client negotiated, so
    /// a client that asks for long timeouts and never acknowledges gives its slot back; nil for no limit.
    public var transferDeadline: Duration?

    public init(
        limits: TFTPServerLimits = TFTPServerLimits(), maximumTransfers: Int = 200, maximumTransfersPerClient: Int = 8,
        timeout: Duration = .seconds(1), retries: Int = 5, transferDeadline: Duration? = .seconds(120)
    ) {
        self.limits = limits
        self.maximumTransfers = maximumTransfers
        self.maximumTransfersPerClient = maximumTransfersPerClient
        self.timeout = timeout
        self.retries = retries
        self.transferDeadline = transferDeadline
    }
}

/// Creates and binds a UDP channel on an ephemeral port, running `initializer` on it before it
/// becomes active. Runtime implements it with NIOPosix's `DatagramBootstrap`; this layer only
/// sees NIOCore.
public typealias TFTPChannelFactory = @Sendable (
    _ initializer: @escaping @Sendable (any Channel) -> EventLoopFuture<Void>
) -> EventLoopFuture<any Channel>

extension ByteBuffer {
    /// Writes a packet straight into the buffer, without the intermediate array of `serialized`
    /// for DATA, the packet a transfer sends thousands of times.
    mutating func writeTFTPPacket(_ packet: TFTPPacket) {
        if case .data(let block, let payload) = packet {
            writeInteger(TFTPOpcode.data.rawValue)
            writeInteger(block)
            writeBytes(payload)
        } else {
            writeBytes(packet.serialized)
        }
    }
}

extension Duration {
    var timeAmount: TimeAmount {
        let (seconds, attoseconds) = components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
