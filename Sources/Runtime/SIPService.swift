import Logging
import NIOCore
import NIOPosix
import SIPTransport
import ServiceLifecycle
import TLS

/// Binds the configured SIP listeners and keeps them until graceful shutdown.
public final class SIPService: Service {
    private let listeners: [OutpostConfiguration.Listener]
    private let settings: SIPTransportSettings
    private let group: any EventLoopGroup
    private let receiver: any SIPMessageReceiver
    private let connections: SIPConnectionTable
    private let statistics: SIPTransportStatistics
    private let logger: Logger
    private let onListening: @Sendable ([SocketAddress]) -> Void
    private let tlsContexts: TLSContextStore
    private let defaultClientCertificates: OutpostConfiguration.TLS.ClientCertificates
    private let tlsObserver: (any TLSHandshakeObserver)?
    private let liveTLS: LiveTLSConnections?
    /// One per service: the per-address cap counts TCP and TLS connections together.
    private let limiter: SIPConnectionLimiter?
    /// One for every stream connection, so a flood spread over connections is logged as one.
    private let streamLogLimiter = SharedLogRateLimiter()

    public init(
        listeners: [OutpostConfiguration.Listener], settings: SIPTransportSettings, group: any EventLoopGroup,
        receiver: any SIPMessageReceiver, connections: SIPConnectionTable, statistics: SIPTransportStatistics,
        tlsContexts: TLSContextStore = TLSContextStore([:]),
        defaultClientCertificates: OutpostConfiguration.TLS.ClientCertificates = .required,
        tlsObserver: (any TLSHandshakeObserver)? = nil, liveTLS: LiveTLSConnections? = nil,
        logger: Logger, onListening: @escaping @Sendable ([SocketAddress]) -> Void = { _ in }
    ) {
        self.tlsContexts = tlsContexts
        self.defaultClientCertificates = defaultClientCertificates
        self.tlsObserver = tlsObserver
        self.liveTLS = liveTLS
        self.listeners = listeners
        self.settings = settings
        self.limiter = settings.maximumConnectionsPerAddress.map { SIPConnectionLimiter(maximumPerAddress: $0) }
        self.group = group
        self.receiver = receiver
        self.connections = connections
        self.statistics = statistics
        self.logger = logger
        self.onListening = onListening
    }

    public func run() async throws {
        var channels: [any Channel] = []
        do {
            for listener in listeners {
                let channel = try await bind(listener)
                channels.append(channel)
                logger.notice(
                    "SIP listening",
                    metadata: ["address": "\(channel.localAddress.map { $0.logText(listener.transport) } ?? "?")"])
            }
        } catch {
            for channel in channels { try? await channel.close() }
            throw error
        }
        onListening(channels.compactMap(\.localAddress))
        try? await gracefulShutdown()
        logger.notice("SIP listeners closing")
        for channel in channels { try? await channel.close() }
    }

    private func bind(_ listener: OutpostConfiguration.Listener) async throws -> any Channel {
        let receiver = self.receiver
        let connections = self.connections
        let statistics = self.statistics
        let settings = self.settings
        let limiter = self.limiter
        let streamLogLimiter = self.streamLogLimiter
        let logger = self.logger
        do {
            switch listener.transport {
            case .udp:
                return try await DatagramBootstrap(group: group)
                    .channelOption(.socketOption(.so_reuseaddr), value: 1)
                    // Registration storms after a WAN outage arrive in bursts; the kernel caps this
                    // at net.core.rmem_max, which appliance/sysctl.d/60-outpost.conf raises.
                    .channelOption(.socketOption(.so_rcvbuf), value: 4 << 20)
                    .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65_536))
                    .channelInitializer { channel in
                        SIPPipeline.configureDatagram(
                            channel, receiver: receiver, connections: connections, statistics: statistics,
                            settings: settings, logger: logger)
                    }
                    .bind(host: listener.address, port: listener.port).get()
            case .tcp, .tls:
                let transport = listener.transport
                let security: @Sendable () throws -> [any ChannelHandler]
                if transport == .tls {
                    let mode = listener.clientCertificates ?? defaultClientCertificates
                    guard tlsContexts.context(for: mode) != nil else {
                        throw ListenerError(listener: listener, reason: "no TLS certificate is configured")
                    }
                    let observer = tlsObserver
                    let contexts = tlsContexts
                    let live = liveTLS
                    security = {
                        // Looked up per connection, so a reloaded context applies to the next one.
                        guard let context = contexts.context(for: mode) else { throw ListenerError(listener: listener, reason: "TLS context vanished") }
                        return [TLSHandler(context: context, observer: observer), TLSIdentityBridge(live: live, mode: mode)]
                    }
                } else {
                    security = { [] }
                }
                return try await ServerBootstrap(group: group)
                    .serverChannelOption(.backlog, value: 1024)
                    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                    .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                    .childChannelInitializer { channel in
                        do {
                            return SIPPipeline.configureStream(
                                channel, transport: transport, securityHandlers: try security(), receiver: receiver,
                                connections: connections, statistics: statistics, settings: settings, limiter: limiter,
                                logLimiter: streamLogLimiter, logger: logger)
                        } catch {
                            return channel.eventLoop.makeFailedFuture(error)
                        }
                    }
                    .bind(host: listener.address, port: listener.port).get()
            }
        } catch let error as ListenerError {
            throw error
        } catch {
            throw ListenerError(listener: listener, reason: "\(error)")
        }
    }
}

public struct ListenerError: Error, CustomStringConvertible {
    public let listener: OutpostConfiguration.Listener
    public let reason: String
    public var description: String {
        "cannot listen on \(listener.transport.rawValue.lowercased()) \(listener.address):\(listener.port): \(reason)"
    }
}
