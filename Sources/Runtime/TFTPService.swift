import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import TFTP
import TFTPProtocol

/// The provisioning TFTP server: generated files over the configured directory over the call
/// manager's files (proxied and cached), bound until graceful shutdown.
public final class TFTPService: Service {
    private let configuration: OutpostConfiguration.TFTP
    private let cacheDirectory: String
    private let generatedFiles: TFTPGeneratedFiles
    private let statistics: TFTPStatistics
    private let upstreamAvailable: @Sendable () -> Bool
    private let group: any EventLoopGroup
    private let logger: Logger
    private let onListening: @Sendable (SocketAddress) -> Void

    public init(
        configuration: OutpostConfiguration.TFTP, cacheDirectory: String, generatedFiles: TFTPGeneratedFiles,
        statistics: TFTPStatistics, upstreamAvailable: @escaping @Sendable () -> Bool, group: any EventLoopGroup, logger: Logger,
        onListening: @escaping @Sendable (SocketAddress) -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.cacheDirectory = cacheDirectory
        self.generatedFiles = generatedFiles
        self.statistics = statistics
        self.upstreamAvailable = upstreamAvailable
        self.group = group
        self.logger = logger
        self.onListening = onListening
    }

    public func run() async throws {
        let server = TFTPServer(
            settings: TFTPServerSettings(
                maximumTransfers: configuration.maximumTransfers, maximumTransfersPerClient: configuration.maximumTransfersPerClient,
                timeout: .seconds(configuration.timeoutSeconds), retries: configuration.retries,
                transferDeadline: .seconds(configuration.transferDeadlineSeconds)),
            source: try source(), statistics: statistics, logger: logger,
            makeTransferChannel: Self.transferChannelFactory(group: group, host: configuration.address))
        let channel: any Channel
        do {
            channel = try await DatagramBootstrap(group: group)
                .channelOption(.socketOption(.so_reuseaddr), value: 1)
                // Large enough to read an oversized datagram whole, so it is refused, not misread.
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65_536))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(server.makeListenerHandler()) }
                }
                .bind(host: configuration.address, port: configuration.port).get()
        } catch {
            throw TFTPListenerError(address: configuration.address, port: configuration.port, reason: "\(error)")
        }
        let address = channel.localAddress
        logger.notice("TFTP listening", metadata: ["address": "\(address.map { "\($0)" } ?? "?")"])
        if let address { onListening(address) }
        try? await gracefulShutdown()
        logger.notice("TFTP listener closing")
        try? await channel.close()
    }

    private func source() throws -> any TFTPFileSource {
        var layers: [any TFTPFileSource] = [generatedFiles]
        if let root = configuration.root {
            layers.append(try TFTPDirectorySource(root: root))
        }
        if let upstream = configuration.upstream {
            let address = try SocketAddress(ipAddress: upstream.address, port: upstream.port)
            let client = TFTPClient(makeChannel: Self.clientChannelFactory(group: group, host: address.protocol == .inet6 ? "::" : "0.0.0.0"))
            layers.append(
                TFTPUpstreamProxy(
                    upstream: address, client: client,
                    options: TFTPClient.Options(timeout: .seconds(configuration.timeoutSeconds), retries: configuration.retries),
                    cache: try TFTPCacheDirectory(path: cacheDirectory), isAvailable: upstreamAvailable, statistics: statistics,
                    logger: logger))
        }
        return TFTPOverlaySource(layers)
    }

    /// UDP channels on ephemeral ports of `host` for the server's transfers. A transfer receives
    /// one small ACK per window, so one read per wake-up saves the read that would find nothing.
    public static func transferChannelFactory(group: any EventLoopGroup, host: String) -> TFTPChannelFactory {
        channelFactory(group: group, host: host, receiveCapacity: 2048, messagesPerRead: 1)
    }

    /// UDP channels on ephemeral ports of `host` for a client's downloads, which receive whole windows.
    public static func clientChannelFactory(group: any EventLoopGroup, host: String) -> TFTPChannelFactory {
        channelFactory(group: group, host: host, receiveCapacity: 65_536, messagesPerRead: 16)
    }

    private static func channelFactory(group: any EventLoopGroup, host: String, receiveCapacity: Int, messagesPerRead: UInt) -> TFTPChannelFactory {
        { initializer in
            DatagramBootstrap(group: group)
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: receiveCapacity))
                .channelOption(.maxMessagesPerRead, value: messagesPerRead)
                .channelInitializer(initializer)
                .bind(host: host, port: 0)
        }
    }
}

public struct TFTPListenerError: Error, CustomStringConvertible {
    public let address: String
    public let port: Int
    public let reason: String
    public var description: String { "cannot listen on tftp \(address):\(port): \(reason)" }
}
