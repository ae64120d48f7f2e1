import Media
import NIOCore
import NIOPosix

/// The relay's UDP sockets over NIOPosix: one datagram channel per port, reading up to 32
/// datagrams per wake-up into buffers the channel's pool reuses, so one burst costs one flush.
public struct DatagramMediaSockets: MediaSocketFactory {
    /// Larger than any RTP packet on an Ethernet path; SRTP's trailer is added in the relay's own buffers.
    private static let receiveCapacity = 1_536
    private static let messagesPerRead = 32

    public init() {}

    public func bindUDP(
        host: String, port: Int, on loop: any EventLoop,
        initializer: @escaping @Sendable (any Channel) -> EventLoopFuture<Void>
    ) -> EventLoopFuture<any Channel> {
        let bootstrap = DatagramBootstrap(group: loop)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: Self.receiveCapacity))
            .channelOption(.maxMessagesPerRead, value: UInt(Self.messagesPerRead))
            .channelInitializer(initializer)
        // The relay's address is an IP literal: binding by host name would call getaddrinfo for
        // each of a call's four sockets, on the media loop.
        if let address = try? SocketAddress(ipAddress: host, port: port) { return bootstrap.bind(to: address) }
        return bootstrap.bind(host: host, port: port)
    }
}
