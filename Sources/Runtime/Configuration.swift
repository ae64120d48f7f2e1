import Logging
import SIPTransport

/// Everything `outpost run` needs, with the defaults of the embedded configuration.
public struct OutpostConfiguration: Sendable, Equatable {
    public struct Listener: Sendable, Equatable {
        public var transport: SIPTransportKind
        public var address: String
        public var port: Int

        public init(transport: SIPTransportKind, address: String, port: Int) {
            self.transport = transport
            self.address = address
            self.port = port
        }
    }

    public struct SIP: Sendable, Equatable {
        public var listeners: [Listener]
        public var maximumMessageSize: Int
        public var idleTimeoutSeconds: Int
        /// The Server header and the name in logs.
        public var serverName: String

        public init(
            listeners: [Listener] = [
                Listener(transport: .udp, address: "0.0.0.0", port: 5060),
                Listener(transport: .tcp, address: "0.0.0.0", port: 5060),
            ],
            maximumMessageSize: Int = 65_535, idleTimeoutSeconds: Int = 300, serverName: String = "Outpost"
        ) {
            self.listeners = listeners
            self.maximumMessageSize = maximumMessageSize
            self.idleTimeoutSeconds = idleTimeoutSeconds
            self.serverName = serverName
        }
    }

    public var sip: SIP
    public var stateDirectory: String
    public var logLevel: Logger.Level

    public init(sip: SIP = SIP(), stateDirectory: String = "/var/lib/outpost", logLevel: Logger.Level = .info) {
        self.sip = sip
        self.stateDirectory = stateDirectory
        self.logLevel = logLevel
    }
}
