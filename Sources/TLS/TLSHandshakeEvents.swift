/// Fired down the pipeline once the handshake has completed and the peer is verified.
public struct TLSHandshakeCompleted: Sendable, Hashable {
    public let version: String
    public let cipher: String
    public let resumed: Bool
    public let peer: TLSPeerCertificate?
}

/// Where handshake outcomes are reported (counted and logged by the runtime).
public protocol TLSHandshakeObserver: Sendable {
    func handshakeSucceeded(_ completed: TLSHandshakeCompleted, remote: String)
    func handshakeFailed(_ error: TLSError, remote: String)
}
