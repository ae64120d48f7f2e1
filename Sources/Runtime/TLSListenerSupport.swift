import Logging
import NIOCore
import SIPTransport
import Synchronization
import TLS

/// Counts every TLS handshake outcome by reason and logs each refusal with it, so an operator
/// can see that a phone was turned away and why (unknown CA, expired, revoked, key too small…).
public final class TLSHandshakeStatistics: TLSHandshakeObserver {
    private struct Counts {
        var succeeded = 0
        var resumed = 0
        var failed: [String: Int] = [:]
    }

    private let counts = Mutex(Counts())
    private let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    public func handshakeSucceeded(_ completed: TLSHandshakeCompleted, remote: String) {
        counts.withLock {
            $0.succeeded += 1
            if completed.resumed { $0.resumed += 1 }
        }
        logger.debug(
            "TLS handshake completed",
            metadata: ["remote": "\(remote)", "version": "\(completed.version)", "peer": "\(completed.peer?.commonName ?? "-")"])
    }

    public func handshakeFailed(_ error: TLSError, remote: String) {
        counts.withLock { $0.failed[error.label, default: 0] += 1 }
        logger.notice("TLS handshake refused", metadata: ["remote": "\(remote)", "reason": "\(error.label)", "detail": "\(error)"])
    }

    public var succeeded: Int { counts.withLock { $0.succeeded } }
    public var resumed: Int { counts.withLock { $0.resumed } }
    public var failures: [String: Int] { counts.withLock { $0.failed } }
}

/// Hands the verified certificate identity from the TLS layer to the SIP layer above it, and
/// lists the connection among the live ones (when `live` is given) until it closes.
final class TLSIdentityBridge: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let live: LiveTLSConnections?
    private let mode: OutpostConfiguration.TLS.ClientCertificates

    init(live: LiveTLSConnections? = nil, mode: OutpostConfiguration.TLS.ClientCertificates = .required) {
        self.live = live
        self.mode = mode
    }

    func channelInactive(context: ChannelHandlerContext) {
        live?.remove(context.channel)
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let completed = event as? TLSHandshakeCompleted, let peer = completed.peer {
            if context.channel.isActive { live?.add(context.channel, peer: peer, mode: mode) }
            context.fireUserInboundEventTriggered(
                SIPPeerIdentifiedEvent(identity: SIPPeerIdentity(commonName: peer.commonName, uris: peer.uris, dnsNames: peer.dnsNames)))
        }
        context.fireUserInboundEventTriggered(event)
    }
}
