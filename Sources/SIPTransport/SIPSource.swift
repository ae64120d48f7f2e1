import NIOCore

public enum SIPTransportKind: String, Hashable, Sendable, CaseIterable {
    case udp = "UDP"
    case tcp = "TCP"
    case tls = "TLS"

    public var isReliable: Bool { self != .udp }
}

/// Identifies the socket a message came in on: a stream connection or a datagram listener.
public struct SIPConnectionID: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public var description: String { "#\(rawValue)" }
}

/// Who the peer proved to be during the TLS handshake (empty over UDP and TCP).
public struct SIPPeerIdentity: Hashable, Sendable {
    public var commonName: String?
    public var uris: [String]
    public var dnsNames: [String]

    public init(commonName: String?, uris: [String] = [], dnsNames: [String] = []) {
        self.commonName = commonName
        self.uris = uris
        self.dnsNames = dnsNames
    }
}

/// A security layer under the SIP stream (TLS) announces the verified peer with this event, so
/// the stream handler can attach it to every message from that connection.
public struct SIPPeerIdentifiedEvent: Sendable {
    public let identity: SIPPeerIdentity
    public init(identity: SIPPeerIdentity) { self.identity = identity }
}

/// Where a message came from: enough to answer it the way RFC 3261 §18.2.2 and RFC 3581 ask.
public struct SIPSource: Hashable, Sendable {
    public var transport: SIPTransportKind
    public var remote: SocketAddress
    public var local: SocketAddress?
    public var connection: SIPConnectionID
    public var peerIdentity: SIPPeerIdentity?

    public init(
        transport: SIPTransportKind, remote: SocketAddress, local: SocketAddress?, connection: SIPConnectionID,
        peerIdentity: SIPPeerIdentity? = nil
    ) {
        self.transport = transport
        self.remote = remote
        self.local = local
        self.connection = connection
        self.peerIdentity = peerIdentity
    }
}
