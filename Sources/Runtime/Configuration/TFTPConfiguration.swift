import Yams

extension OutpostConfiguration {
    /// The provisioning TFTP server.
    public struct TFTP: Sendable, Equatable {
        public var enabled: Bool
        public var address: String
        public var port: Int
        /// Files served as they are (firmware, ringtones), below the generated ones.
        public var root: String?

        public init(enabled: Bool = true, address: String = "0.0.0.0", port: Int = 69, root: String? = nil) {
            self.enabled = enabled
            self.address = address
            self.port = port
            self.root = root
        }
    }
}

extension ConfigurationLoader {
    static func readTFTP(_ node: Node, reader: NodeReader) throws(ConfigurationError) -> OutpostConfiguration.TFTP {
        var tftp = OutpostConfiguration.TFTP()
        let entries = try reader.mapping(node, path: "tftp", allowed: ["enabled", "address", "port", "root"])
        if let value = entries["enabled"] { tftp.enabled = try reader.boolean(value, path: "tftp.enabled") }
        if let value = entries["address"] {
            tftp.address = try reader.string(value, path: "tftp.address")
            guard isIPAddress(tftp.address) else { throw reader.error(value, "tftp.address", "'\(tftp.address)' is not an IPv4 or IPv6 address") }
        }
        if let value = entries["port"] { tftp.port = try reader.integer(value, path: "tftp.port", range: 1...65535) }
        if let value = entries["root"] { tftp.root = try reader.string(value, path: "tftp.root") }
        return tftp
    }
}
