import Edge
import SIP
import SIPTransport
import Yams

extension OutpostConfiguration {
    /// The SIP trunk to the central call manager and how its health is judged.
    public struct Trunk: Sendable, Equatable {
        public struct CallManager: Sendable, Equatable {
            public var transport: SIPTransportKind
            public var address: String
            public var port: Int
            /// Over TLS, the name the call manager's certificate must carry; nil means its
            /// address, checked against the certificate's IP addresses.
            public var serverName: String?

            public init(transport: SIPTransportKind, address: String, port: Int, serverName: String? = nil) {
                self.transport = transport
                self.address = address
                self.port = port
                self.serverName = serverName
            }

            /// What the certificate of a TLS call manager must name.
            public var expectedCertificateName: String { serverName ?? address }
        }

        /// In order of preference.
        public var callManagers: [CallManager]
        /// The domain of the addresses of record registered upstream; nil means the first call
        /// manager's address.
        public var domain: String?
        /// Seconds between OPTIONS keep-alives.
        public var optionsInterval: Int
        /// Unanswered keep-alives in a row that declare the call manager gone.
        public var failoverMisses: Int
        /// Answered keep-alives in a row that start the hold-down.
        public var failbackSuccesses: Int
        /// Seconds the call manager must stay answering before the phones are handed back.
        public var holdDown: Int
        /// Seconds between re-registrations of every live binding upstream in normal mode, so a
        /// call manager that restarted and lost its registrations learns them again within this
        /// time rather than at the phones' own expiry. The first runs at the first answered
        /// keep-alive after start, which also hands back bindings made before a restart.
        public var upstreamRefresh: Int

        public init(
            callManagers: [CallManager], domain: String? = nil, optionsInterval: Int = 5, failoverMisses: Int = 3,
            failbackSuccesses: Int = 3, holdDown: Int = 120, upstreamRefresh: Int = 300
        ) {
            self.upstreamRefresh = upstreamRefresh
            self.callManagers = callManagers
            self.domain = domain
            self.optionsInterval = optionsInterval
            self.failoverMisses = failoverMisses
            self.failbackSuccesses = failbackSuccesses
            self.holdDown = holdDown
        }
    }

    /// The edge's own registrar, which answers when the trunk is down.
    public struct Registrar: Sendable, Equatable {
        /// The digest realm.
        public var realm: String
        public var minimumExpires: Int
        public var maximumExpires: Int
        public var defaultExpires: Int
        /// REGISTERs per second one source address may send before it gets 503 + Retry-After.
        public var ratePerSource: Int
        /// Digest algorithms offered, most preferred first.
        public var digestAlgorithms: [SIPDigestAlgorithm]
        /// Back-off and lockout for failed digest answers.
        public var guessing: GuessingSettings

        /// The default under sip.tls.fips_mode: SHA-256 only (MD5 is not a FIPS algorithm).
        public static let fipsDigestAlgorithms: [SIPDigestAlgorithm] = [.sha256]

        public init(realm: String = "outpost", minimumExpires: Int = 60, maximumExpires: Int = 3600, defaultExpires: Int = 3600, ratePerSource: Int = 200,
            digestAlgorithms: [SIPDigestAlgorithm] = [.sha256, .md5], guessing: GuessingSettings = GuessingSettings()
        ) {
            self.guessing = guessing
            self.digestAlgorithms = digestAlgorithms
            self.realm = realm
            self.minimumExpires = minimumExpires
            self.maximumExpires = maximumExpires
            self.defaultExpires = defaultExpires
            self.ratePerSource = ratePerSource
        }
    }
}

extension ConfigurationLoader {
    static func readTrunk(_ node: Node, reader: NodeReader) throws(ConfigurationError) -> OutpostConfiguration.Trunk {
        let entries = try reader.mapping(
            node, path: "trunk",
            allowed: [
                "call_managers", "domain", "options_interval", "failover_misses", "failback_successes", "hold_down", "upstream_refresh",
            ])
        guard let list = entries["call_managers"], case .sequence(let items) = list, !items.isEmpty else {
            throw reader.error(entries["call_managers"] ?? node, "trunk.call_managers", "must be a non-empty list")
        }
        var callManagers: [OutpostConfiguration.Trunk.CallManager] = []
        for (index, item) in items.enumerated() {
            let path = "trunk.call_managers[\(index)]"
            let fields = try reader.mapping(item, path: path, allowed: ["transport", "address", "port", "server_name"])
            let transportName = try fields["transport"].map { (node) throws(ConfigurationError) in try reader.string(node, path: path + ".transport") } ?? "udp"
            guard let transport = SIPTransportKind(rawValue: transportName.uppercased()) else {
                throw reader.error(fields["transport"] ?? item, path + ".transport", "'\(transportName)' is not udp, tcp or tls")
            }
            guard let addressNode = fields["address"] else { throw reader.error(item, path, "address is required") }
            let address = try reader.string(addressNode, path: path + ".address")
            guard isIPAddress(address) else { throw reader.error(addressNode, path + ".address", "'\(address)' is not an IPv4 or IPv6 address") }
            let port = try fields["port"].map { (node) throws(ConfigurationError) in try reader.integer(node, path: path + ".port", range: 1...65535) }
                ?? (transport == .tls ? 5061 : 5060)
            let serverName = try fields["server_name"].map { (node) throws(ConfigurationError) in try reader.string(node, path: path + ".server_name") }
            callManagers.append(.init(transport: transport, address: address, port: port, serverName: serverName))
        }
        var trunk = OutpostConfiguration.Trunk(callManagers: callManagers)
        if let value = entries["domain"] { trunk.domain = try reader.string(value, path: "trunk.domain") }
        if let value = entries["options_interval"] { trunk.optionsInterval = try reader.integer(value, path: "trunk.options_interval", range: 1...300) }
        if let value = entries["failover_misses"] { trunk.failoverMisses = try reader.integer(value, path: "trunk.failover_misses", range: 1...20) }
        if let value = entries["failback_successes"] { trunk.failbackSuccesses = try reader.integer(value, path: "trunk.failback_successes", range: 1...20) }
        if let value = entries["hold_down"] { trunk.holdDown = try reader.integer(value, path: "trunk.hold_down", range: 0...3600) }
        if let value = entries["upstream_refresh"] {
            trunk.upstreamRefresh = try reader.integer(value, path: "trunk.upstream_refresh", range: 10...86400)
        }
        return trunk
    }

    /// With `fipsMode` (sip.tls.fips_mode) MD5 is refused in `digest_algorithms`, and left out of
    /// the default when the key is absent: OpenSSL's FIPS digests would refuse it at every REGISTER.
    static func readRegistrar(_ node: Node, reader: NodeReader, fipsMode: Bool = false) throws(ConfigurationError) -> OutpostConfiguration.Registrar {
        var registrar = OutpostConfiguration.Registrar()
        if fipsMode { registrar.digestAlgorithms = OutpostConfiguration.Registrar.fipsDigestAlgorithms }
        let entries = try reader.mapping(
            node, path: "registrar", allowed: ["realm", "min_expires", "max_expires", "default_expires", "rate_per_source", "digest_algorithms", "guessing"])
        if let value = entries["realm"] { registrar.realm = try reader.string(value, path: "registrar.realm") }
        if let value = entries["min_expires"] { registrar.minimumExpires = try reader.integer(value, path: "registrar.min_expires", range: 1...86400) }
        if let value = entries["max_expires"] { registrar.maximumExpires = try reader.integer(value, path: "registrar.max_expires", range: 1...604800) }
        if let value = entries["default_expires"] { registrar.defaultExpires = try reader.integer(value, path: "registrar.default_expires", range: 1...604800) }
        if let value = entries["rate_per_source"] { registrar.ratePerSource = try reader.integer(value, path: "registrar.rate_per_source", range: 1...1_000_000) }
        if let value = entries["digest_algorithms"] {
            let names = try reader.strings(value, path: "registrar.digest_algorithms")
            var algorithms: [SIPDigestAlgorithm] = []
            for (index, name) in names.enumerated() {
                guard let algorithm = SIPDigestAlgorithm(rawValue: name.uppercased()), !algorithms.contains(algorithm) else {
                    throw reader.error(value, "registrar.digest_algorithms[\(index)]", "'\(name)' is not SHA-256 or MD5, or appears twice")
                }
                if fipsMode, algorithm == .md5 {
                    let item = if case .sequence(let items) = value, index < items.count { Array(items)[index] } else { value }
                    throw reader.error(
                        item, "registrar.digest_algorithms", "MD5 is not allowed in FIPS mode (sip.tls.fips_mode is true); offer SHA-256 only")
                }
                algorithms.append(algorithm)
            }
            guard !algorithms.isEmpty else { throw reader.error(value, "registrar.digest_algorithms", "must name at least one algorithm") }
            registrar.digestAlgorithms = algorithms
        }
        if let value = entries["guessing"] { registrar.guessing = try readGuessing(value, reader: reader) }
        guard registrar.minimumExpires <= registrar.defaultExpires, registrar.defaultExpires <= registrar.maximumExpires else {
            throw reader.error(node, "registrar", "min_expires ≤ default_expires ≤ max_expires must hold")
        }
        return registrar
    }

    static func readGuessing(_ node: Node, reader: NodeReader) throws(ConfigurationError) -> GuessingSettings {
        let path = "registrar.guessing"
        let entries = try reader.mapping(
            node, path: path, allowed: ["free_failures", "base_backoff", "max_backoff", "lockout_failures", "lockout_seconds"])
        var guessing = GuessingSettings()
        if let value = entries["free_failures"] { guessing.freeFailures = try reader.integer(value, path: path + ".free_failures", range: 0...1000) }
        if let value = entries["base_backoff"] { guessing.baseBackOff = try reader.integer(value, path: path + ".base_backoff", range: 1...3600) }
        if let value = entries["max_backoff"] { guessing.maximumBackOff = try reader.integer(value, path: path + ".max_backoff", range: 1...86400) }
        if let value = entries["lockout_failures"] {
            guessing.lockoutFailures = try reader.integer(value, path: path + ".lockout_failures", range: 1...100_000)
        }
        if let value = entries["lockout_seconds"] {
            guessing.lockoutSeconds = try reader.integer(value, path: path + ".lockout_seconds", range: 1...604800)
        }
        if let problem = guessing.problem { throw reader.error(node, path, problem) }
        return guessing
    }
}
