import Yams

extension OutpostConfiguration {
    /// The provisioning TFTP server.
    public struct TFTP: Sendable, Equatable {
        /// The call manager's TFTP server, which the edge proxies and caches while the trunk is up.
        public struct Upstream: Sendable, Equatable {
            public var address: String
            public var port: Int

            public init(address: String, port: Int = 69) {
                self.address = address
                self.port = port
            }
        }

        public var enabled: Bool
        public var address: String
        /// 0 picks a free port (tests).
        public var port: Int
        /// Files served as they are (firmware, ringtones), below the generated ones.
        public var root: String?
        public var upstream: Upstream?
        /// Transfers at once, over all phones.
        public var maximumTransfers: Int
        /// Transfers at once from one address.
        public var maximumTransfersPerClient: Int
        /// Seconds before a block is sent again when the phone negotiates no timeout.
        public var timeoutSeconds: Int
        /// Retransmissions without progress before a transfer is abandoned.
        public var retries: Int
        /// Seconds one transfer may take in all, whatever timeout the phone negotiates.
        public var transferDeadlineSeconds: Int

        public init(
            enabled: Bool = true, address: String = "0.0.0.0", port: Int = 69, root: String? = nil, upstream: Upstream? = nil,
            maximumTransfers: Int = 200, maximumTransfersPerClient: Int = 8, timeoutSeconds: Int = 1, retries: Int = 5,
            transferDeadlineSeconds: Int = 120
        ) {
            self.enabled = enabled
            self.address = address
            self.port = port
            self.root = root
            self.upstream = upstream
            self.maximumTransfers = maximumTransfers
            self.maximumTransfersPerClient = maximumTransfersPerClient
            self.timeoutSeconds = timeoutSeconds
            self.retries = retries
            self.transferDeadlineSeconds = transferDeadlineSeconds
        }
    }
}

extension ConfigurationLoader {
    static func readTFTP(_ node: Node, reader: NodeReader) throws(ConfigurationError) -> OutpostConfiguration.TFTP {
        var tftp = OutpostConfiguration.TFTP()
        let entries = try reader.mapping(
            node, path: "tftp",
            allowed: ["enabled", "address", "port", "root", "upstream", "max_transfers", "max_transfers_per_client", "timeout", "retries",
                      "transfer_deadline"])
        if let value = entries["enabled"] { tftp.enabled = try reader.boolean(value, path: "tftp.enabled") }
        if let value = entries["address"] {
            tftp.address = try reader.string(value, path: "tftp.address")
            guard isIPAddress(tftp.address) else { throw reader.error(value, "tftp.address", "'\(tftp.address)' is not an IPv4 or IPv6 address") }
        }
        if let value = entries["port"] { tftp.port = try reader.integer(value, path: "tftp.port", range: 0...65535) }
        if let value = entries["root"] { tftp.root = try reader.string(value, path: "tftp.root") }
        if let value = entries["upstream"] {
            let fields = try reader.mapping(value, path: "tftp.upstream", allowed: ["address", "port"])
            guard let addressNode = fields["address"] else { throw reader.error(value, "tftp.upstream", "address is required") }
            let address = try reader.string(addressNode, path: "tftp.upstream.address")
            guard isIPAddress(address) else { throw reader.error(addressNode, "tftp.upstream.address", "'\(address)' is not an IPv4 or IPv6 address") }
            var upstream = OutpostConfiguration.TFTP.Upstream(address: address)
            if let port = fields["port"] { upstream.port = try reader.integer(port, path: "tftp.upstream.port", range: 1...65535) }
            tftp.upstream = upstream
        }
        if let value = entries["max_transfers"] { tftp.maximumTransfers = try reader.integer(value, path: "tftp.max_transfers", range: 1...10_000) }
        if let value = entries["max_transfers_per_client"] {
            tftp.maximumTransfersPerClient = try reader.integer(value, path: "tftp.max_transfers_per_client", range: 1...10_000)
        }
        if let value = entries["timeout"] { tftp.timeoutSeconds = try reader.integer(value, path: "tftp.timeout", range: 1...255) }
        if let value = entries["retries"] { tftp.retries = try reader.integer(value, path: "tftp.retries", range: 0...100) }
        if let value = entries["transfer_deadline"] {
            tftp.transferDeadlineSeconds = try reader.integer(value, path: "tftp.transfer_deadline", range: 1...3600)
        }
        return tftp
    }
}
