import Edge
import Logging
import NIOCore
import NIOPosix
import SIP
import SIPTransport
import Synchronization
import TLS

/// The edge's connection to one call manager over UDP, TCP or TLS, opened on first use and again
/// after it closes. It is an ordinary SIP connection: registered in the runtime's connection
/// table, its messages handed to the SIP stack, which runs the client transactions (and serves
/// whatever the call manager sends the edge).
final class TrunkConnection: Sendable {
    let callManager: OutpostConfiguration.Trunk.CallManager
    private let stack: SIPStack
    private let group: any EventLoopGroup
    private let tlsContext: TLSContext?
    private let protection: (any TrunkProtection)?
    private let connections: SIPConnectionTable
    private let statistics: SIPTransportStatistics
    private let logger: Logger
    private let state = Mutex<State>(State())
    /// Why the last TLS handshake with the call manager failed, for the failure's cause.
    private let handshakeFailure = HandshakeFailureNote()

    private struct State {
        var open: (channel: any Channel, source: SIPSource)?
        var connecting: EventLoopFuture<SIPSource>?
    }

    init(
        callManager: OutpostConfiguration.Trunk.CallManager, stack: SIPStack, group: any EventLoopGroup, tlsContext: TLSContext?,
        protection: (any TrunkProtection)?, connections: SIPConnectionTable, statistics: SIPTransportStatistics, logger: Logger
    ) {
        self.callManager = callManager
        self.stack = stack
        self.group = group
        self.tlsContext = tlsContext
        self.protection = protection
        self.connections = connections
        self.statistics = statistics
        self.logger = logger
    }

    var remote: String { callManager.remote }

    /// Sends `request` as a client transaction and waits up to `timeout` for its final response.
    /// `addPath` adds a Path naming this trunk's local address (for REGISTERs).
    func send(_ request: SIPRequest, timeout: Duration, addPath: Bool = false) async throws -> SIPResponse {
        let source = try await protectedSource()
        var outgoing = request
        if addPath, let local = source.local, let host = local.ipAddress, let port = local.port {
            let sentBy = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
            outgoing.headers.insert(.path, "<sip:\(sentBy);transport=\(callManager.transport.rawValue.lowercased());lr>", at: 0)
        }
        do {
            return try await stack.request(outgoing, over: source, deadline: timeout)
        } catch let failure as SIPStack.ClientFailure {
            switch failure {
            case .timeout(let what): throw TrunkFailure.timeout(what)
            case .transport(let reason), .refused(let reason): throw TrunkFailure.transport(explained(reason))
            }
        }
    }

    /// The connection, opened if need be, once the IPsec gate lets signalling to the call manager
    /// through; the call layer sends its INVITEs, BYEs and ACKs over it.
    func protectedSource() async throws -> SIPSource {
        if let protection, await !protection.currentStatus().mayCarrySignalling(to: callManager.address) {
            throw TrunkFailure.unprotected("IPsec to \(callManager.address) is not in place")
        }
        return try await connected()
    }

    /// The connection as it is now, if open.
    var openSource: SIPSource? {
        state.withLock { state in state.open.flatMap { $0.channel.isActive ? $0.source : nil } }
    }

    /// Whether a request on `flow` comes from this call manager.
    func isPeer(of flow: BindingFlow) -> Bool {
        guard flow.transport == BindingFlow.Transport(callManager.transport) else { return false }
        if let open = openSource, flow.transport != .udp { return flow.liveConnection == open.connection.rawValue }
        return flow.remoteAddress == callManager.address && flow.remotePort == callManager.port
    }

    /// A transport failure on a TLS trunk says why the handshake failed, not only that the
    /// channel closed.
    private func explained(_ reason: String) -> String {
        guard let handshake = handshakeFailure.last else { return reason }
        return "TLS handshake with \(remote) failed: \(handshake)"
    }

    private func connected() async throws -> SIPSource {
        let future = state.withLock { state -> EventLoopFuture<SIPSource>? in
            if let open = state.open, open.channel.isActive { return open.channel.eventLoop.makeSucceededFuture(open.source) }
            return state.connecting
        }
        if let future { return try await future.get() }
        let connecting = openChannel()
        state.withLock { $0.connecting = connecting }
        do {
            let source = try await connecting.get()
            state.withLock { $0.connecting = nil }
            return source
        } catch {
            state.withLock { $0.connecting = nil }
            throw TrunkFailure.transport(explained("cannot reach \(remote): \(error)"))
        }
    }

    private func openChannel() -> EventLoopFuture<SIPSource> {
        let settings = SIPTransportSettings(idleTimeout: .hours(24))
        let stack = self.stack, connections = self.connections, statistics = self.statistics, logger = self.logger
        let opened: EventLoopFuture<any Channel>
        switch callManager.transport {
        case .udp:
            opened = DatagramBootstrap(group: group)
                .channelInitializer { channel in
                    SIPPipeline.configureDatagram(
                        channel, receiver: stack, connections: connections, statistics: statistics, settings: settings, logger: logger)
                }
                .connect(host: callManager.address, port: callManager.port)
        case .tcp, .tls:
            let transport = callManager.transport
            let tlsContext = self.tlsContext
            let observer = handshakeFailure
            let expectedName = callManager.expectedCertificateName
            opened = ClientBootstrap(group: group)
                .connectTimeout(.seconds(3))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    var security: [any ChannelHandler] = []
                    if transport == .tls {
                        guard let tlsContext else {
                            return channel.eventLoop.makeFailedFuture(TrunkFailure.transport("no TLS client context for the trunk"))
                        }
                        security = [TLSHandler(context: tlsContext, observer: observer, peerName: expectedName)]
                    }
                    return SIPPipeline.configureStream(
                        channel, transport: transport, securityHandlers: security, receiver: stack, connections: connections,
                        statistics: statistics, settings: settings, logger: logger)
                }
                .connect(host: callManager.address, port: callManager.port)
        }
        let transport = callManager.transport
        // A stream connection registers on channelActive, which NIO fires after the connect
        // future's callbacks: look the id up in the loop's next turn.
        return opened.flatMap { [self] channel in channel.eventLoop.submit { [self] in try source(of: channel, transport: transport) } }
    }

    private func source(of channel: any Channel, transport: SIPTransportKind) throws -> SIPSource {
        guard let id = connections.id(of: channel), let remote = channel.remoteAddress else {
            channel.close(promise: nil)
            throw TrunkFailure.transport("the connection to \(self.remote) closed while opening")
        }
        let source = SIPSource(transport: transport, remote: remote, local: channel.localAddress, connection: id)
        state.withLock { $0.open = (channel, source) }
        channel.closeFuture.whenComplete { [self] _ in
            state.withLock { state in
                if state.open?.channel === channel { state.open = nil }
            }
            // Over a stream nothing is retransmitted: what was in flight has failed now.
            stack.connectionClosed(id, reason: explained("connection to \(self.remote) closed"))
        }
        return source
    }

    func close() async {
        let channel = state.withLock { $0.open?.channel }
        try? await channel?.close()
    }
}

/// Why a request to the call manager got no final response.
public enum TrunkFailure: Error, CustomStringConvertible, Sendable {
    case timeout(String)
    case transport(String)
    case unprotected(String)

    public var description: String {
        switch self {
        case .timeout(let what): "no answer within \(what)"
        case .transport(let reason): reason
        case .unprotected(let reason): "trunk may not carry signalling: \(reason)"
        }
    }
}

/// Keeps OpenSSL's reason for the last failed handshake until a handshake succeeds: the failed
/// writes and the closed connection it causes are reported on different paths, and both name it.
private final class HandshakeFailureNote: TLSHandshakeObserver {
    private let reason = Mutex<String?>(nil)

    func handshakeSucceeded(_ completed: TLSHandshakeCompleted, remote: String) {
        reason.withLock { $0 = nil }
    }

    func handshakeFailed(_ error: TLSError, remote: String) {
        reason.withLock { $0 = "\(error)" }
    }

    var last: String? { reason.withLock { $0 } }
}

extension OutpostConfiguration.Trunk.CallManager {
    /// `udp:192.0.2.10:5060`: how logs, views and metrics name a call manager.
    var remote: String { "\(transport.rawValue.lowercased()):\(address):\(port)" }
}
