import Edge
import Logging
import SIPTransport
import TrunkIPsec

/// Everything `outpost run` needs, with the defaults of the embedded configuration.
public struct OutpostConfiguration: Sendable, Equatable {
    public struct Listener: Sendable, Equatable {
        public var transport: SIPTransportKind
        public var address: String
        public var port: Int
        /// For a TLS listener: overrides sip.tls.client_certificates (e.g. optional on a
        /// listener for softphones, required on the phones' one).
        public var clientCertificates: TLS.ClientCertificates?

        public init(transport: SIPTransportKind, address: String, port: Int, clientCertificates: TLS.ClientCertificates? = nil) {
            self.transport = transport
            self.address = address
            self.port = port
            self.clientCertificates = clientCertificates
        }
    }

    /// The SIP/TLS listeners' identity, trust and policy. Paths left empty mean the edge's own
    /// PKI in the state directory.
    public struct TLS: Sendable, Equatable {
        public enum ClientCertificates: String, Sendable, Equatable {
            case required, optional
        }

        public var certificate: String?
        public var key: String?
        public var trustRoots: String?
        public var crls: [String]
        public var clientCertificates: ClientCertificates
        public var handshakeTimeoutSeconds: Int
        public var fipsMode: Bool
        public var cipherList: String?
        public var cipherSuites: String?
        /// How often the TLS files and CRLs are checked for changes.
        public var reloadIntervalSeconds: Int

        public init(
            certificate: String? = nil, key: String? = nil, trustRoots: String? = nil, crls: [String] = [],
            clientCertificates: ClientCertificates = .required, handshakeTimeoutSeconds: Int = 10, fipsMode: Bool = false,
            cipherList: String? = nil, cipherSuites: String? = nil, reloadIntervalSeconds: Int = 30
        ) {
            self.reloadIntervalSeconds = reloadIntervalSeconds
            self.certificate = certificate
            self.key = key
            self.trustRoots = trustRoots
            self.crls = crls
            self.clientCertificates = clientCertificates
            self.handshakeTimeoutSeconds = handshakeTimeoutSeconds
            self.fipsMode = fipsMode
            self.cipherList = cipherList
            self.cipherSuites = cipherSuites
        }
    }

    public struct SIP: Sendable, Equatable {
        public var listeners: [Listener]
        public var tls: TLS
        public var maximumMessageSize: Int
        public var idleTimeoutSeconds: Int
        /// Seconds a TCP/TLS peer has to finish a message it has started (headers and body).
        public var messageDeadlineSeconds: Int
        /// TCP/TLS connections one address may hold at once; more are closed on accept.
        public var maximumConnectionsPerAddress: Int
        /// The Server header and the name in logs.
        public var serverName: String

        public init(
            listeners: [Listener] = [
                Listener(transport: .udp, address: "0.0.0.0", port: 5060),
                Listener(transport: .tcp, address: "0.0.0.0", port: 5060),
                Listener(transport: .tls, address: "0.0.0.0", port: 5061),
            ],
            tls: TLS = TLS(), maximumMessageSize: Int = 65_535, idleTimeoutSeconds: Int = 300, messageDeadlineSeconds: Int = 10,
            maximumConnectionsPerAddress: Int = 50, serverName: String = "Outpost"
        ) {
            self.listeners = listeners
            self.tls = tls
            self.maximumMessageSize = maximumMessageSize
            self.idleTimeoutSeconds = idleTimeoutSeconds
            self.messageDeadlineSeconds = messageDeadlineSeconds
            self.maximumConnectionsPerAddress = maximumConnectionsPerAddress
            self.serverName = serverName
        }
    }

    /// What the edge's own SRST certificate names, and when expiry is reported.
    public struct PKI: Sendable, Equatable {
        /// DNS names; empty means this host's name.
        public var names: [String]
        /// Addresses phones reach the edge on; empty means this host's non-loopback addresses.
        public var addresses: [String]
        public var expiryWarningDays: Int

        public init(names: [String] = [], addresses: [String] = [], expiryWarningDays: Int = 30) {
            self.names = names
            self.addresses = addresses
            self.expiryWarningDays = expiryWarningDays
        }
    }

    public var sip: SIP
    public var pki: PKI
    /// IPsec protection of the trunk to the call manager; nil when not configured.
    public var trunkIPsec: TrunkProtectionConfiguration?
    /// The SIP trunk to the call manager; nil means the edge is always the registrar.
    public var trunk: Trunk?
    public var registrar: Registrar
    /// The inventory: the only devices the edge registers and provisions.
    public var devices: [Device]
    public var tftp: TFTP
    public var provisioning: Provisioning
    public var media: Media
    public var calls = Calls()
    public var admin = Admin()
    /// Where calls go (`dial_plan:`); empty means the edge's defaults only.
    public var dialPlan = DialPlan()
    public var stateDirectory: String
    public var logLevel: Logger.Level

    public init(
        sip: SIP = SIP(), pki: PKI = PKI(), trunk: Trunk? = nil, registrar: Registrar = Registrar(), devices: [Device] = [],
        tftp: TFTP = TFTP(), provisioning: Provisioning = Provisioning(), media: Media = Media(), stateDirectory: String = "/var/lib/outpost",
        logLevel: Logger.Level = .info
    ) {
        self.sip = sip
        self.pki = pki
        self.trunk = trunk
        self.registrar = registrar
        self.devices = devices
        self.tftp = tftp
        self.provisioning = provisioning
        self.media = media
        self.stateDirectory = stateDirectory
        self.logLevel = logLevel
    }
}
