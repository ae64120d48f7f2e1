import Edge
import NIOCore
import SIP
import SIPTransaction
import SIPTransport
import Synchronization

/// The call layer's `CallSignalling` over the SIP stack: the domain names flows, this finds the
/// connection or listener each one is, and sends through the transaction layer.
final class StackCallSignalling: CallSignalling {
    private let stack: SIPStack
    private let phones: PhoneFlows
    private let connections: SIPConnectionTable
    private let trunk: TrunkUpstream?
    /// Sources of connections the edge opened itself toward phones, which no request has named yet.
    private let opened = Mutex<[BindingFlow: SIPSource]>([:])

    init(stack: SIPStack, phones: PhoneFlows, connections: SIPConnectionTable, trunk: TrunkUpstream?) {
        self.trunk = trunk
        self.stack = stack
        self.phones = phones
        self.connections = connections
    }

    struct FlowGone: Error, CustomStringConvertible {
        let flow: BindingFlow
        var description: String { "the flow \(flow.transport.rawValue.lowercased()):\(flow.remoteAddress):\(flow.remotePort) is gone" }
    }

    func flow(toward binding: Binding) async throws -> BindingFlow {
        let source = try await phones.context(for: binding)
        let flow = RequestOrigin(source).flow
        opened.withLock { $0[flow] = source }
        return flow
    }

    struct NoTrunk: Error, CustomStringConvertible {
        var description: String { "no trunk is configured" }
    }

    func callManagerFlow() async throws -> BindingFlow {
        guard let trunk else { throw NoTrunk() }
        let source = try await trunk.callSource()
        let flow = RequestOrigin(source).flow
        opened.withLock { $0[flow] = source }
        return flow
    }

    func isCallManager(_ flow: BindingFlow) -> Bool {
        trunk?.isCallManager(flow) ?? false
    }

    func localAddress(of flow: BindingFlow) -> (host: String, port: Int)? {
        guard let local = source(of: flow)?.local, let host = local.ipAddress, let port = local.port else { return nil }
        return (host, port)
    }

    func invite(
        _ request: SIPRequest, over flow: BindingFlow, sent: @escaping @Sendable (SIPRequest) -> Void,
        provisional: @escaping @Sendable (SIPResponse) -> Void
    ) async throws -> SIPResponse {
        guard let source = source(of: flow) else { throw FlowGone(flow: flow) }
        return try await stack.invite(request, over: source, sent: sent, provisional: provisional)
    }

    func cancel(_ sentInvite: SIPRequest, over flow: BindingFlow, reason: String?) async {
        guard let source = source(of: flow) else { return }
        var cancel = sentInvite.cancelRequest()
        if let reason { cancel.headers.append(.reason, reason) }
        _ = try? await stack.cancel(cancel, over: source, deadline: .seconds(8))
    }

    func ack(_ ack: SIPRequest, over flow: BindingFlow) {
        guard let source = source(of: flow) else { return }
        stack.sendACK(ack, over: source)
    }

    func request(_ request: SIPRequest, over flow: BindingFlow, deadline: Duration) async throws -> SIPResponse {
        guard let source = source(of: flow) else { throw FlowGone(flow: flow) }
        return try await stack.request(request, over: source, deadline: deadline)
    }

    /// A stream flow is its connection while that is open; a UDP flow is the peer's address,
    /// reached from the UDP listener, except a call manager's, reached over the trunk's socket.
    private func source(of flow: BindingFlow) -> SIPSource? {
        if let known = opened.withLock({ $0[flow] }), connections.entry(known.connection)?.channel.isActive ?? false { return known }
        if let trunkSource = trunk?.openSource(for: flow) { return trunkSource }
        switch flow.transport {
        case .udp:
            guard let listener = connections.firstListener(of: .udp), let channel = connections.entry(listener)?.channel,
                let remote = try? SocketAddress(ipAddress: flow.remoteAddress, port: flow.remotePort)
            else { return nil }
            return SIPSource(transport: .udp, remote: remote, local: channel.localAddress, connection: listener)
        case .tcp, .tls:
            guard let number = flow.liveConnection, let channel = connections.entry(SIPConnectionID(rawValue: number))?.channel,
                channel.isActive, let remote = channel.remoteAddress
            else { return nil }
            return SIPSource(
                transport: flow.transport == .tls ? .tls : .tcp, remote: remote, local: channel.localAddress,
                connection: SIPConnectionID(rawValue: number))
        }
    }
}
