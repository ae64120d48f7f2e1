import PKI
import Yams

extension OutpostConfiguration {
    /// The operator's HTTP listener (`admin:`): Prometheus metrics at `/metrics`, the status page at `/`.
    public struct Admin: Sendable, Equatable {
        public var enabled = true
        /// Loopback by default: metrics name lines and addresses, for the management network only.
        public var address = "127.0.0.1"
        /// 0 picks a free port (tests).
        public var port = 9160
        /// HTTP connections open at once; more are closed on accept.
        public var maximumConnections = 16
        /// Seconds a client has to finish a request once it has started one.
        public var requestDeadlineSeconds = 10
        /// The status page's login (HTTP Basic); without a password hash the page is not served.
        public var username = "admin"
        public var passwordHash: PasswordHash?
        /// HTTPS with the edge's SRST certificate (or sip.tls's), client certificates optional.
        public var tls = false
        /// Over TLS: a client certificate that chains to the edge's trust roots and names one of
        /// these (CN, DNS or URI SAN) logs in to the status page without a password.
        public var certificateNames: [String] = []

        public init() {}
    }
}

extension ConfigurationLoader {
    static func readAdmin(_ node: Node, reader: NodeReader) throws(ConfigurationError) -> OutpostConfiguration.Admin {
        var admin = OutpostConfiguration.Admin()
        let entries = try reader.mapping(node, path: "admin", allowed: ["enabled", "address", "port", "max_connections", "request_deadline", "username", "password_hash", "tls", "certificate_names"])
        if let value = entries["enabled"] { admin.enabled = try reader.boolean(value, path: "admin.enabled") }
        if let value = entries["address"] {
            admin.address = try reader.string(value, path: "admin.address")
            guard isIPAddress(admin.address) else { throw reader.error(value, "admin.address", "'\(admin.address)' is not an IPv4 or IPv6 address") }
        }
        if let value = entries["port"] { admin.port = try reader.integer(value, path: "admin.port", range: 0...65535) }
        if let value = entries["max_connections"] {
            admin.maximumConnections = try reader.integer(value, path: "admin.max_connections", range: 1...1_000)
        }
        if let value = entries["request_deadline"] {
            admin.requestDeadlineSeconds = try reader.integer(value, path: "admin.request_deadline", range: 1...300)
        }
        if let value = entries["username"] { admin.username = try reader.string(value, path: "admin.username") }
        if let value = entries["password_hash"] {
            let text = try reader.string(value, path: "admin.password_hash")
            do { admin.passwordHash = try PasswordHash(parsing: text) } catch {
                throw reader.error(value, "admin.password_hash", "\(error) (make one with: outpost admin hash-password)")
            }
        }
        if let value = entries["tls"] { admin.tls = try reader.boolean(value, path: "admin.tls") }
        if let value = entries["certificate_names"] {
            admin.certificateNames = try reader.strings(value, path: "admin.certificate_names")
            guard admin.tls || admin.certificateNames.isEmpty else {
                throw reader.error(value, "admin.certificate_names", "a client certificate can only log in over TLS: set admin.tls: true")
            }
        }
        return admin
    }
}
