/// Where a binding's requests go: the transport and address the REGISTER came from, and for
/// connection-oriented transports the connection itself (RFC 5626: requests to the phone reuse
/// the flow it registered on).
public struct BindingFlow: Sendable, Hashable, Codable {
    public enum Transport: String, Sendable, Hashable, Codable {
        case udp = "UDP", tcp = "TCP", tls = "TLS"
    }

    public var transport: Transport
    public var remoteAddress: String
    public var remotePort: Int
    /// The transport's connection number, unique within one process only.
    public var connection: UInt64?
    /// The connection was one of an earlier process: it is gone, and a new connection with the
    /// same number is another phone's. Requests to the phone wait for it to reconnect (stream
    /// transports) or go to its address (UDP).
    public var stale: Bool

    public init(transport: Transport, remoteAddress: String, remotePort: Int, connection: UInt64? = nil, stale: Bool = false) {
        self.transport = transport
        self.remoteAddress = remoteAddress
        self.remotePort = remotePort
        self.connection = connection
        self.stale = stale
    }

    /// What a restored flow becomes: its connection number no longer names it.
    public mutating func markStale() {
        if connection != nil { stale = true }
    }

    /// The connection requests to the phone may use: none once it is stale.
    public var liveConnection: UInt64? { stale ? nil : connection }
}

/// One Contact bound to an address of record (RFC 3261 §10.3), with what RFC 5626 adds.
public struct Binding: Sendable, Hashable, Codable {
    /// The line the binding belongs to: the user part of the address of record, e.g. `2001`.
    public var addressOfRecord: String
    /// The Contact URI as the phone sent it.
    public var contact: String
    /// The inventory device that registered it.
    public var device: String
    /// Wall-clock expiry, seconds since 1970 (it must survive a restart).
    public var expiresAt: Int64
    /// The Contact's q value in thousandths (RFC 3261 `q=0.5` is 500); nil when absent.
    public var qValue: Int?
    /// RFC 5626 `+sip.instance`.
    public var instanceID: String?
    /// RFC 5626 `reg-id`.
    public var regID: Int?
    public var callID: String
    public var cseq: UInt32
    public var flow: BindingFlow
    /// The Path the REGISTER carried (RFC 3327), to be used as a route set towards the phone.
    public var path: [String]
    public var userAgent: String?
    public var registeredAt: Int64
    /// Whether the call manager holds this binding too (it was relayed and accepted upstream).
    public var acceptedUpstream: Bool

    public init(
        addressOfRecord: String, contact: String, device: String, expiresAt: Int64, qValue: Int? = nil, instanceID: String? = nil,
        regID: Int? = nil, callID: String, cseq: UInt32, flow: BindingFlow, path: [String] = [], userAgent: String? = nil,
        registeredAt: Int64, acceptedUpstream: Bool = false
    ) {
        self.addressOfRecord = addressOfRecord
        self.contact = contact
        self.device = device
        self.expiresAt = expiresAt
        self.qValue = qValue
        self.instanceID = instanceID
        self.regID = regID
        self.callID = callID
        self.cseq = cseq
        self.flow = flow
        self.path = path
        self.userAgent = userAgent
        self.registeredAt = registeredAt
        self.acceptedUpstream = acceptedUpstream
    }

    /// What identifies the binding within its address of record: the instance and reg-id when
    /// the phone uses outbound (RFC 5626 §6), else the Contact URI.
    public var key: String {
        if let instanceID, let regID { return "\(instanceID);reg-id=\(regID)" }
        return contact
    }
}

/// Durable storage of bindings. Writes are applied in the order they are issued, and the
/// completion runs only once the write is durable: the registrar sends `200 OK` from it.
public protocol BindingJournal: Sendable {
    /// Replaces the address of record's complete binding set (an empty set deletes it).
    func write(addressOfRecord: String, bindings: [Binding], completion: @escaping @Sendable (Result<Void, any Error>) -> Void)
    /// Every binding stored, expired or not.
    func loadBindings() throws -> [Binding]
}
