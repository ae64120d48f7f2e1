/// How one TLS endpoint behaves: its identity, whom it trusts, and the policy of DESIGN.md —
/// TLS 1.2 and 1.3 only, modern AEAD suites, no renegotiation, tickets on, a key-size floor.
public struct TLSConfiguration: Sendable, Hashable {
    public enum Role: String, Sendable, Hashable {
        case server, client
    }

    public enum PeerVerification: String, Sendable, Hashable {
        /// The peer must present a certificate that verifies; the handshake fails otherwise.
        case required
        /// A presented certificate must verify; no certificate is accepted.
        case optional
        /// Nothing is asked or checked (a client talking to a test server only).
        case none
    }

    public enum Version: String, Sendable, Hashable {
        case tls12 = "1.2"
        case tls13 = "1.3"
    }

    public var role: Role
    /// PEM: the endpoint's certificate first, then any intermediates.
    public var certificateChainPath: String?
    public var privateKeyPath: String?
    /// PEM bundle of the roots peers' certificates must chain to.
    public var trustRootsPath: String?
    /// PEM CRLs checked for every certificate of the peer's chain; when present, every issuer
    /// needs a current CRL (OpenSSL's CRL_CHECK_ALL), so revocation cannot be skipped silently.
    public var crlPaths: [String]
    /// Trusted roots (SHA-256 of the DER, hex; colons and case ignored) whose chains may lack a
    /// CRL: OpenSSL's "unable to get certificate CRL" is forgiven for a chain ending at one of
    /// them, nothing else is. A CRL that is present is still checked, so a revoked certificate is
    /// still refused. Every other root needs its CRL (fail closed).
    public var crlOptionalRoots: Set<String>
    public var peerVerification: PeerVerification
    public var minimumVersion: Version
    public var maximumVersion: Version
    /// TLS 1.2 suites in OpenSSL's notation.
    public var cipherList: String
    /// TLS 1.3 suites.
    public var cipherSuites: String
    public var groups: String
    /// Also refuse SHA-1 signatures anywhere in the peer's chain.
    public var fipsMode: Bool
    public var sessionTickets: Bool
    public var handshakeTimeout: Duration
    /// For a client: the name sent as SNI and checked against the server's certificate.
    public var serverName: String?

    public static let defaultCipherList =
        "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384"
    public static let defaultCipherSuites = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384"

    public init(
        role: Role, certificateChainPath: String? = nil, privateKeyPath: String? = nil, trustRootsPath: String? = nil,
        crlPaths: [String] = [], crlOptionalRoots: Set<String> = [], peerVerification: PeerVerification = .required, minimumVersion: Version = .tls12, maximumVersion: Version = .tls13,
        cipherList: String = TLSConfiguration.defaultCipherList, cipherSuites: String = TLSConfiguration.defaultCipherSuites,
        groups: String = "X25519:P-256:P-384", fipsMode: Bool = false, sessionTickets: Bool = true,
        handshakeTimeout: Duration = .seconds(10), serverName: String? = nil
    ) {
        self.role = role
        self.certificateChainPath = certificateChainPath
        self.privateKeyPath = privateKeyPath
        self.trustRootsPath = trustRootsPath
        self.crlPaths = crlPaths
        self.crlOptionalRoots = crlOptionalRoots
        self.peerVerification = peerVerification
        self.minimumVersion = minimumVersion
        self.maximumVersion = maximumVersion
        self.cipherList = cipherList
        self.cipherSuites = cipherSuites
        self.groups = groups
        self.fipsMode = fipsMode
        self.sessionTickets = sessionTickets
        self.handshakeTimeout = handshakeTimeout
        self.serverName = serverName
    }
}
