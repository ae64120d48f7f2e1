import Edge
import NIOCore
import SIPTransport

extension RequestOrigin {
    /// The domain's view of a transport source: its flow, and the certificate's names under TLS.
    init(_ source: SIPSource) {
        let transport = BindingFlow.Transport(source.transport)
        let identity = source.peerIdentity
        self.init(
            flow: BindingFlow(
                transport: transport, remoteAddress: source.remote.ipAddress ?? "\(source.remote)", remotePort: source.remote.port ?? 0,
                connection: source.transport.isReliable ? source.connection.rawValue : nil),
            certificateNames: identity.map { ($0.commonName.map { [$0] } ?? []) + $0.uris + $0.dnsNames })
    }
}

extension BindingFlow.Transport {
    init(_ kind: SIPTransportKind) {
        switch kind {
        case .udp: self = .udp
        case .tcp: self = .tcp
        case .tls: self = .tls
        }
    }
}
