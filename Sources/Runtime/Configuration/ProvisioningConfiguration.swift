import Yams

extension OutpostConfiguration {
    /// What the generated phone configurations tell phones about the edge.
    public struct Provisioning: Sendable, Equatable {
        /// The address phones use for the edge as their SRST reference; empty means the first of
        /// pki.addresses, else this host's first non-loopback address.
        public var edgeAddress: String?
        /// Seconds a phone waits on a recovered call manager before failing back (Cisco
        /// connectionMonitorDuration); the registrar's failback hold-down uses the same figure.
        public var connectionMonitorDuration: Int

        public init(edgeAddress: String? = nil, connectionMonitorDuration: Int = 120) {
            self.edgeAddress = edgeAddress
            self.connectionMonitorDuration = connectionMonitorDuration
        }
    }
}

extension ConfigurationLoader {
    static func readProvisioning(_ node: Node, reader: NodeReader) throws(ConfigurationError) -> OutpostConfiguration.Provisioning {
        var provisioning = OutpostConfiguration.Provisioning()
        let entries = try reader.mapping(node, path: "provisioning", allowed: ["edge_address", "connection_monitor_duration"])
        if let value = entries["edge_address"] {
            let address = try reader.string(value, path: "provisioning.edge_address")
            guard isIPAddress(address) else { throw reader.error(value, "provisioning.edge_address", "'\(address)' is not an IPv4 or IPv6 address") }
            provisioning.edgeAddress = address
        }
        if let value = entries["connection_monitor_duration"] {
            provisioning.connectionMonitorDuration = try reader.integer(value, path: "provisioning.connection_monitor_duration", range: 0...3600)
        }
        return provisioning
    }
}
