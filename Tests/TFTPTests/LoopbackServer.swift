import Logging
import NIOCore
import NIOPosix
import Synchronization
import TFTP
import TFTPProtocol

/// A TFTP server on a loopback ephemeral port, with the client and a raw probe to talk to it.
final class LoopbackServer: Sendable {
    static let group = MultiThreadedEventLoopGroup.singleton

    let server: TFTPServer
    let listener: any Channel
    let address: SocketAddress
    var statistics: TFTPStatistics { server.statistics }

    init(source: any TFTPFileSource, settings: TFTPServerSettings = TFTPServerSettings()) async throws {
        var logger = Logger(label: "tftp-test")
        logger.logLevel = .critical
        let server = TFTPServer(
            settings: settings, source: source, statistics: TFTPStatistics(), logger: logger,
            makeTransferChannel: Self.factory(receiveCapacity: 2048))
        self.server = server
        listener = try await DatagramBootstrap(group: Self.group)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65_536))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(server.makeListenerHandler()) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        address = listener.localAddress!
    }

    static func factory(receiveCapacity: Int, host: String = "127.0.0.1") -> TFTPChannelFactory {
        { initializer in
            DatagramBootstrap(group: group)
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: receiveCapacity))
                .channelInitializer(initializer)
                .bind(host: host, port: 0)
        }
    }

    static let client = TFTPClient(makeChannel: factory(receiveCapacity: 65_536))
    /// A client on another loopback address (loopback answers for all of 127/8), which per-address limits count apart.
    static let otherClient = TFTPClient(makeChannel: factory(receiveCapacity: 65_536, host: "127.0.0.2"))

    func download(_ name: String, blockSize: Int = 1428, windowSize: Int = 1, fromOtherAddress: Bool = false) async throws -> [UInt8] {
        try await (fromOtherAddress ? Self.otherClient : Self.client).download(
            name, from: address, options: .init(blockSize: blockSize, windowSize: windowSize, timeout: .milliseconds(500), retries: 4))
    }

    /// Polls until `condition` holds, for at most `seconds`.
    func waitUntil(seconds: Double = 10, _ condition: () -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }

    func stop() async {
        try? await listener.close()
    }
}

/// A bare UDP socket that sends what a test wants and hands back whatever arrives, with the sender.
final class DatagramProbe: Sendable {
    let channel: any Channel
    private let inbox: Inbox

    init(host: String = "127.0.0.1") async throws {
        let inbox = Inbox()
        self.inbox = inbox
        channel = try await DatagramBootstrap(group: LoopbackServer.group)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65_536))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Collector(inbox: inbox)) }
            }
            .bind(host: host, port: 0).get()
    }

    func send(_ bytes: [UInt8], to address: SocketAddress) async throws {
        try await channel.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: ByteBuffer(bytes: bytes)))
    }

    func send(_ packet: TFTPPacket, to address: SocketAddress) async throws {
        try await send(packet.serialized, to: address)
    }

    /// The next datagram (nil packet when it does not parse), or nil after `seconds`.
    func next(seconds: Double = 5) async throws -> (packet: TFTPPacket?, from: SocketAddress)? {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if let envelope = inbox.take() {
                return (try? TFTPPacket.parse(Array(envelope.data.readableBytesView)), envelope.remoteAddress)
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }

    func close() async {
        try? await channel.close()
    }

    final class Inbox: Sendable {
        private let queue = Mutex<[AddressedEnvelope<ByteBuffer>]>([])
        func put(_ envelope: AddressedEnvelope<ByteBuffer>) { queue.withLock { $0.append(envelope) } }
        func take() -> AddressedEnvelope<ByteBuffer>? { queue.withLock { $0.isEmpty ? nil : $0.removeFirst() } }
    }

    private final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        let inbox: Inbox
        init(inbox: Inbox) { self.inbox = inbox }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            inbox.put(unwrapInboundIn(data))
        }
    }
}
