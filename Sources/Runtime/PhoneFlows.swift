import Edge
import Logging
import NIOCore
import NIOPosix
import SIP
import SIPTransport
import Synchronization
import TLS

/// Where a request to a registered phone goes (RFC 5626 §5.3): over the flow it registered on;
/// for UDP to the address the REGISTER came from, through a listener; when a stream flow is gone,
/// to its Contact over a fresh connection, unless the phone uses outbound, whose flow cannot be
/// replaced (it gets `430 Flow Failed` semantics: the request fails).
enum FlowChoice: Equatable {
    case existingConnection(SIPConnectionID)
    case udpListener(SIPConnectionID, host: String, port: Int)
    case newConnection(SIPTransportKind, host: String, port: Int)
    case unreachable(String)

    /// `connectionAlive` tells whether the binding's connection is still open in this process;
    /// `udpListener` is a UDP listener to send from, if there is one.
    static func decide(for binding: Binding, connectionAlive: (SIPConnectionID) -> Bool, udpListener: SIPConnectionID?) -> FlowChoice {
        let flow = binding.flow
        switch flow.transport {
        case .udp:
            guard let listener = udpListener else { return .unreachable("no UDP listener to reach \(flow.remoteAddress):\(flow.remotePort)") }
            return .udpListener(listener, host: flow.remoteAddress, port: flow.remotePort)
        case .tcp, .tls:
            if let number = flow.liveConnection, connectionAlive(SIPConnectionID(rawValue: number)) {
                return .existingConnection(SIPConnectionID(rawValue: number))
            }
            if binding.instanceID != nil, binding.regID != nil {
                return .unreachable("the outbound flow of \(binding.device) is gone (RFC 5626 §5.3: it is not replaced)")
            }
            let transport: SIPTransportKind = flow.transport == .tls ? .tls : .tcp
            guard let uri = try? URI(parsing: binding.contact).sipURI else {
                return .unreachable("the Contact \(binding.contact) is not a SIP URI")
            }
            let host = uri.host.hasPrefix("[") ? String(uri.host.dropFirst().dropLast()) : uri.host
            guard isNumericAddress(host) else { return .unreachable("the Contact host \(uri.host) is not an address") }
            return .newConnection(transport, host: host, port: uri.port ?? (transport == .tls ? 5061 : 5060))
        }
    }

    private static func isNumericAddress(_ host: String) -> Bool {
        (try? SocketAddress(ipAddress: host, port: 0)) != nil
    }
}

/// Sends requests to registered phones through the SIP stack, over their flows, and counts what
/// could not be delivered and why.
final class PhoneFlows: Sendable {
    enum Counter: String, CaseIterable {
        case overFlow = "over_flow"
        case overUDP = "over_udp"
        case newConnections = "new_connections"
        case unreachable
        case connectFailures = "connect_failures"
    }

    private let stack: SIPStack
    private let connections: SIPConnectionTable
    private let statistics: SIPTransportStatistics
    private let group: any EventLoopGroup
    private let tlsClient: TLSContext?
    private let logger: Logger
    private let counters = Mutex([Int](repeating: 0, count: Counter.allCases.count))

    init(
        stack: SIPStack, connections: SIPConnectionTable, statistics: SIPTransportStatistics, group: any EventLoopGroup,
        tlsClient: TLSContext?, logger: Logger
    ) {
        self.stack = stack
        self.connections = connections
        self.statistics = statistics
        self.group = group
        self.tlsClient = tlsClient
        self.logger = logger
    }

    struct Unreachable: Error, CustomStringConvertible {
        let description: String
    }

    /// Sends `request` (its Request-URI is set to the binding's Contact, its Route to the
    /// binding's Path) and returns the final response.
    func send(_ request: SIPRequest, to binding: Binding, deadline: Duration) async throws -> SIPResponse {
        var outgoing = request
        if let contact = try? URI(parsing: binding.contact) { outgoing.uri = contact }
        for (index, hop) in binding.path.enumerated() { outgoing.headers.insert(.route, hop, at: index) }
        let context = try await context(for: binding)
        return try await stack.request(outgoing, over: context, deadline: deadline)
    }

    func snapshot() -> [String: Int] {
        let values = counters.withLock { $0 }
        return Dictionary(uniqueKeysWithValues: zip(Counter.allCases.map(\.rawValue), values))
    }

    private func count(_ counter: Counter) {
        let index = Counter.allCases.firstIndex(of: counter)!
        counters.withLock { $0[index] += 1 }
    }

    /// The transport source a request to `binding` goes out on: its flow, a UDP listener, or a new connection.
    func context(for binding: Binding) async throws -> SIPSource {
        let choice = FlowChoice.decide(
            for: binding, connectionAlive: { [connections] in connections.entry($0)?.channel.isActive ?? false },
            udpListener: connections.firstListener(of: .udp))
        switch choice {
        case .existingConnection(let id):
            guard let channel = connections.entry(id)?.channel, let remote = channel.remoteAddress else { break }
            count(.overFlow)
            let transport: SIPTransportKind = binding.flow.transport == .tls ? .tls : .tcp
            return SIPSource(transport: transport, remote: remote, local: channel.localAddress, connection: id)
        case .udpListener(let id, let host, let port):
            guard let channel = connections.entry(id)?.channel, let remote = try? SocketAddress(ipAddress: host, port: port) else { break }
            count(.overUDP)
            return SIPSource(transport: .udp, remote: remote, local: channel.localAddress, connection: id)
        case .newConnection(let transport, let host, let port):
            return try await connect(transport, host: host, port: port)
        case .unreachable(let reason):
            count(.unreachable)
            throw Unreachable(description: reason)
        }
        count(.unreachable)
        throw Unreachable(description: "the flow of \(binding.device) closed while choosing it")
    }

    private func connect(_ transport: SIPTransportKind, host: String, port: Int) async throws -> SIPSource {
        if transport == .tls, tlsClient == nil {
            count(.unreachable)
            throw Unreachable(description: "no TLS client certificate to reach \(host):\(port)")
        }
        let stack = self.stack, connections = self.connections, statistics = self.statistics, logger = self.logger
        let tlsClient = self.tlsClient
        do {
            let channel = try await ClientBootstrap(group: group)
                .connectTimeout(.seconds(3))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    let security: [any ChannelHandler] = transport == .tls ? [TLSHandler(context: tlsClient!), TLSIdentityBridge()] : []
                    return SIPPipeline.configureStream(
                        channel, transport: transport, securityHandlers: security, receiver: stack, connections: connections,
                        statistics: statistics, settings: SIPTransportSettings(), logger: logger)
                }
                .connect(host: host, port: port).get()
            // The stream handler registers the connection on channelActive, after the connect
            // future's callbacks: read the id in the loop's next turn.
            let id = try await channel.eventLoop.submit { connections.id(of: channel) }.get()
            guard let id, let remote = channel.remoteAddress else { throw Unreachable(description: "the connection to \(host):\(port) closed at once") }
            count(.newConnections)
            return SIPSource(transport: transport, remote: remote, local: channel.localAddress, connection: id)
        } catch {
            count(.connectFailures)
            throw Unreachable(description: "cannot connect to \(transport.rawValue.lowercased()):\(host):\(port): \(error)")
        }
    }
}
