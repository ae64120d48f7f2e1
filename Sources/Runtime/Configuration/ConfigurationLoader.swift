import Logging
import SIPTransport
import TrunkIPsec
import Yams

/// A configuration fault, located so an operator can fix it: file, line, key and reason.
public struct ConfigurationError: Error, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var key: String
    public var reason: String
    /// Every further problem the same file has: the loader reports them all at once.
    public var others: [ConfigurationError] = []

    public init(file: String, line: Int?, key: String, reason: String) {
        self.file = file
        self.line = line
        self.key = key
        self.reason = reason
    }

    /// This problem and the others, in the order of the file.
    public var all: [ConfigurationError] {
        ([self] + others).map { var one = $0; one.others = []; return one }
    }

    public var description: String {
        all.map { "\($0.file)\($0.line.map { ":\($0)" } ?? ""): \($0.key): \($0.reason)" }.joined(separator: "\n")
    }
}

/// Reads the YAML configuration. Unknown keys are errors: a misspelt key silently ignored is a
/// setting the operator believes in and does not have.
public enum ConfigurationLoader {
    public static func load(yaml: String, file: String) throws(ConfigurationError) -> OutpostConfiguration {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw ConfigurationError(file: file, line: nil, key: "(document)", reason: "not valid YAML: \(error)")
        }
        var configuration = OutpostConfiguration()
        guard let root else { return configuration }
        let reader = NodeReader(file: file)
        let top: [String: Node]
        do {
            top = try reader.mapping(root, path: "(document)", allowed: [
                "sip", "pki", "trunk", "trunk_ipsec", "registrar", "devices", "tftp", "provisioning", "media", "calls", "admin", "dial_plan", "state_directory", "log",
            ])
        } catch {
            reader.record(error)
            throw reader.combinedProblems()!
        }
        // Each section on its own: a mistake in one does not hide the mistakes in the next.
        if let trunk = top["trunk_ipsec"] { configuration.trunkIPsec = reader.collecting { () throws(ConfigurationError) in try readTrunkIPsec(trunk, reader: reader) } }
        if let trunk = top["trunk"] { configuration.trunk = reader.collecting { () throws(ConfigurationError) in try readTrunk(trunk, reader: reader) } }
        if let devices = top["devices"], let read = reader.collecting({ () throws(ConfigurationError) in try readDevices(devices, reader: reader) }) {
            configuration.devices = read
        }
        if let tftp = top["tftp"], let read = reader.collecting({ () throws(ConfigurationError) in try readTFTP(tftp, reader: reader) }) { configuration.tftp = read }
        if let media = top["media"], let read = reader.collecting({ () throws(ConfigurationError) in try readMedia(media, reader: reader) }) { configuration.media = read }
        if let calls = top["calls"], let read = reader.collecting({ () throws(ConfigurationError) in try readCalls(calls, reader: reader) }) { configuration.calls = read }
        if let admin = top["admin"], let read = reader.collecting({ () throws(ConfigurationError) in try readAdmin(admin, reader: reader) }) { configuration.admin = read }
        if let plan = top["dial_plan"], let read = reader.collecting({ () throws(ConfigurationError) in try readDialPlan(plan, reader: reader) }) {
            configuration.dialPlan = read
        }
        if let provisioning = top["provisioning"],
            let read = reader.collecting({ () throws(ConfigurationError) in try readProvisioning(provisioning, reader: reader) })
        {
            configuration.provisioning = read
        }
        if let pki = top["pki"], let read = reader.collecting({ () throws(ConfigurationError) in try readPKI(pki, reader: reader) }) { configuration.pki = read }
        if let sip = top["sip"], let read = reader.collecting({ () throws(ConfigurationError) in try readSIP(sip, reader: reader) }) { configuration.sip = read }
        // After sip: sip.tls.fips_mode decides which digest algorithms the registrar may offer.
        let fipsMode = configuration.sip.tls.fipsMode
        if let registrar = top["registrar"] {
            if let read = reader.collecting({ () throws(ConfigurationError) in try readRegistrar(registrar, reader: reader, fipsMode: fipsMode) }) {
                configuration.registrar = read
            }
        } else if fipsMode {
            configuration.registrar.digestAlgorithms = OutpostConfiguration.Registrar.fipsDigestAlgorithms
        }
        if let directory = top["state_directory"], let read = reader.collecting({ () throws(ConfigurationError) in try reader.string(directory, path: "state_directory") }) {
            configuration.stateDirectory = read
        }
        if let log = top["log"] {
            _ = reader.collecting { () throws(ConfigurationError) in
                let entries = try reader.mapping(log, path: "log", allowed: ["level"])
                if let level = entries["level"] {
                    let text = try reader.string(level, path: "log.level")
                    guard let parsed = Logger.Level(rawValue: text) else {
                        throw reader.error(level, "log.level", "'\(text)' is not one of trace, debug, info, notice, warning, error, critical")
                    }
                    configuration.logLevel = parsed
                }
            }
        }
        for problem in ConfigurationChecks.problems(configuration, file: file) { reader.record(problem) }
        if let problems = reader.combinedProblems() { throw problems }
        return configuration
    }

    private static func readSIP(_ node: Node, reader: NodeReader) throws(ConfigurationError) -> OutpostConfiguration.SIP {
        var sip = OutpostConfiguration.SIP()
        let entries = try reader.mapping(node, path: "sip", allowed: [
            "listen", "tls", "max_message_size", "idle_timeout", "message_deadline", "max_connections_per_address", "server_name",
        ])
        if let tls = entries["tls"] {
            sip.tls = try readTLS(tls, reader: reader)
        }
        if let listen = entries["listen"] {
            guard case .sequence(let items) = listen else { throw reader.error(listen, "sip.listen", "must be a list") }
            var listeners: [OutpostConfiguration.Listener] = []
            for (index, item) in items.enumerated() {
                let path = "sip.listen[\(index)]"
                let fields = try reader.mapping(item, path: path, allowed: ["transport", "address", "port", "client_certificates"])
                guard let transportNode = fields["transport"] else { throw reader.error(item, path, "transport is required") }
                let transportName = try reader.string(transportNode, path: path + ".transport")
                guard let transport = SIPTransportKind(rawValue: transportName.uppercased()) else {
                    throw reader.error(transportNode, path + ".transport", "'\(transportName)' is not udp, tcp or tls")
                }
                let address = try fields["address"].map { (node) throws(ConfigurationError) in try reader.string(node, path: path + ".address") } ?? "0.0.0.0"
                guard isIPAddress(address) else {
                    throw reader.error(fields["address"] ?? item, path + ".address", "'\(address)' is not an IPv4 or IPv6 address")
                }
                let port = try fields["port"].map { (node) throws(ConfigurationError) in try reader.integer(node, path: path + ".port", range: 1...65535) } ?? 5060
                var clientCertificates: OutpostConfiguration.TLS.ClientCertificates?
                if let mode = fields["client_certificates"] {
                    guard transport == .tls else {
                        throw reader.error(mode, path + ".client_certificates", "only a tls listener asks for client certificates")
                    }
                    clientCertificates = try readClientCertificates(mode, path: path + ".client_certificates", reader: reader)
                }
                listeners.append(
                    OutpostConfiguration.Listener(transport: transport, address: address, port: port, clientCertificates: clientCertificates))
            }
            let duplicates = Dictionary(grouping: listeners) { "\($0.transport.isReliable)/\($0.address):\($0.port)" }.filter { $0.value.count > 1 }
            if let duplicate = duplicates.keys.sorted().first {
                throw reader.error(listen, "sip.listen", "two listeners on the same socket (\(duplicate))")
            }
            sip.listeners = listeners
        }
        if let size = entries["max_message_size"] {
            sip.maximumMessageSize = try reader.integer(size, path: "sip.max_message_size", range: 1500...65535)
        }
        if let timeout = entries["idle_timeout"] {
            sip.idleTimeoutSeconds = try reader.integer(timeout, path: "sip.idle_timeout", range: 10...86400)
        }
        if let deadline = entries["message_deadline"] {
            sip.messageDeadlineSeconds = try reader.integer(deadline, path: "sip.message_deadline", range: 1...3600)
        }
        if let cap = entries["max_connections_per_address"] {
            sip.maximumConnectionsPerAddress = try reader.integer(cap, path: "sip.max_connections_per_address", range: 1...100_000)
        }
        if let name = entries["server_name"] {
            sip.serverName = try reader.string(name, path: "sip.server_name")
            guard sip.serverName.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else {
                throw reader.error(name, "sip.server_name", "must be printable ASCII")
            }
        }
        return sip
    }

    /// The settings of TrunkProtectionConfiguration: what `outpost run` protects the trunk with and
    /// what `outpost ipsec` acts on (see TrunkIPsecConfigurationFile.swift).
    private static func readTrunkIPsec(_ node: Node, reader: NodeReader) throws(ConfigurationError) -> TrunkProtectionConfiguration {
        guard case .mapping(let mapping) = node else { throw reader.error(node, "trunk_ipsec", "must be a mapping of keys") }
        var protection = TrunkProtectionConfiguration()
        var seen: Set<String> = []
        for (keyNode, valueNode) in mapping {
            guard let key = keyNode.string else { throw reader.error(keyNode, "trunk_ipsec", "keys must be text") }
            let path = "trunk_ipsec.\(key)"
            guard seen.insert(key).inserted else { throw reader.error(keyNode, path, "appears twice") }
            let value: TrunkSettingValue
            switch valueNode {
            case .scalar(let scalar): value = .scalar(scalar.string)
            case .sequence: value = .list(try reader.strings(valueNode, path: path))
            case .mapping: throw reader.error(valueNode, path, "must be a value or a list")
            }
            do throws(TrunkSettingError) {
                try protection.apply(key: key, value: value)
            } catch {
                throw reader.error(keyNode, path, error.reason)
            }
        }
        let problems = protection.problems()
        if !problems.isEmpty { throw reader.error(node, "trunk_ipsec", problems.joined(separator: "; ")) }
        return protection
    }

    private static func readPKI(_ node: Node, reader: NodeReader) throws(ConfigurationError) -> OutpostConfiguration.PKI {
        var pki = OutpostConfiguration.PKI()
        let entries = try reader.mapping(node, path: "pki", allowed: ["names", "addresses", "expiry_warning_days"])
        if let names = entries["names"] { pki.names = try reader.strings(names, path: "pki.names") }
        if let addresses = entries["addresses"] {
            pki.addresses = try reader.strings(addresses, path: "pki.addresses")
            for (index, address) in pki.addresses.enumerated() where !isIPAddress(address) {
                throw reader.error(addresses, "pki.addresses[\(index)]", "'\(address)' is not an IPv4 or IPv6 address")
            }
        }
        if let days = entries["expiry_warning_days"] {
            pki.expiryWarningDays = try reader.integer(days, path: "pki.expiry_warning_days", range: 1...365)
        }
        return pki
    }

    private static func readTLS(_ node: Node, reader: NodeReader) throws(ConfigurationError) -> OutpostConfiguration.TLS {
        var tls = OutpostConfiguration.TLS()
        let entries = try reader.mapping(
            node, path: "sip.tls",
            allowed: ["certificate", "key", "trust_roots", "crls", "client_certificates", "handshake_timeout", "fips_mode", "cipher_list", "cipher_suites", "reload_interval"])
        if let value = entries["certificate"] { tls.certificate = try reader.string(value, path: "sip.tls.certificate") }
        if let value = entries["key"] { tls.key = try reader.string(value, path: "sip.tls.key") }
        if let value = entries["trust_roots"] { tls.trustRoots = try reader.string(value, path: "sip.tls.trust_roots") }
        if let value = entries["crls"] { tls.crls = try reader.strings(value, path: "sip.tls.crls") }
        if let value = entries["client_certificates"] {
            tls.clientCertificates = try readClientCertificates(value, path: "sip.tls.client_certificates", reader: reader)
        }
        if let value = entries["handshake_timeout"] {
            tls.handshakeTimeoutSeconds = try reader.integer(value, path: "sip.tls.handshake_timeout", range: 1...120)
        }
        if let value = entries["reload_interval"] {
            tls.reloadIntervalSeconds = try reader.integer(value, path: "sip.tls.reload_interval", range: 1...86400)
        }
        if let value = entries["fips_mode"] { tls.fipsMode = try reader.boolean(value, path: "sip.tls.fips_mode") }
        if let value = entries["cipher_list"] { tls.cipherList = try reader.string(value, path: "sip.tls.cipher_list") }
        if let value = entries["cipher_suites"] { tls.cipherSuites = try reader.string(value, path: "sip.tls.cipher_suites") }
        return tls
    }

    private static func readClientCertificates(
        _ node: Node, path: String, reader: NodeReader
    ) throws(ConfigurationError) -> OutpostConfiguration.TLS.ClientCertificates {
        let text = try reader.string(node, path: path)
        guard let mode = OutpostConfiguration.TLS.ClientCertificates(rawValue: text) else {
            throw reader.error(node, path, "'\(text)' is not required or optional")
        }
        return mode
    }

    static func isIPAddress(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 4, parts.allSatisfy({ UInt8($0) != nil && ($0 == "0" || !$0.hasPrefix("0")) }) { return true }
        return text.contains(":") && text.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
    }
}

/// Typed access to YAML nodes with errors that carry the line.
struct NodeReader {
    let file: String
    private let problems = ConfigurationProblems()

    /// Notes a problem and goes on, so the operator hears of every one at once.
    func record(_ problem: ConfigurationError) { problems.list.append(problem) }

    /// `read`'s value, or nil with its problem recorded.
    func collecting<T>(_ read: () throws(ConfigurationError) -> T) -> T? {
        do { return try read() } catch {
            record(error)
            return nil
        }
    }

    /// Every problem recorded, as one error whose first is the earliest in the file; nil when none.
    func combinedProblems() -> ConfigurationError? {
        let sorted = problems.list.enumerated().sorted { ($0.element.line ?? .max, $0.offset) < ($1.element.line ?? .max, $1.offset) }.map(\.element)
        guard var first = sorted.first else { return nil }
        first.others = Array(sorted.dropFirst())
        return first
    }

    func error(_ node: Node, _ path: String, _ reason: String) -> ConfigurationError {
        ConfigurationError(file: file, line: node.mark.map { $0.line }, key: path, reason: reason)
    }

    func mapping(_ node: Node, path: String, allowed: Set<String>) throws(ConfigurationError) -> [String: Node] {
        guard case .mapping(let mapping) = node else { throw error(node, path, "must be a mapping of keys") }
        var result: [String: Node] = [:]
        for (keyNode, value) in mapping {
            guard let key = keyNode.string else { throw error(keyNode, path, "keys must be text") }
            let keyPath = path == "(document)" ? key : "\(path).\(key)"
            guard allowed.contains(key) else {
                // Recorded, not thrown: the keys beside it are still read and checked.
                record(error(keyNode, keyPath, "unknown key (known: \(allowed.sorted().joined(separator: ", ")))"))
                continue
            }
            guard result[key] == nil else { throw error(keyNode, keyPath, "appears twice") }
            result[key] = value
        }
        return result
    }

    func string(_ node: Node, path: String) throws(ConfigurationError) -> String {
        guard case .scalar(let scalar) = node, !scalar.string.isEmpty else { throw error(node, path, "must be a non-empty value") }
        return scalar.string
    }

    func strings(_ node: Node, path: String) throws(ConfigurationError) -> [String] {
        guard case .sequence(let items) = node else { throw error(node, path, "must be a list") }
        var result: [String] = []
        for (index, item) in items.enumerated() { result.append(try string(item, path: "\(path)[\(index)]")) }
        return result
    }

    func boolean(_ node: Node, path: String) throws(ConfigurationError) -> Bool {
        guard case .scalar(let scalar) = node, let value = Bool(scalar.string.lowercased()) else {
            throw error(node, path, "must be true or false")
        }
        return value
    }

    func integer(_ node: Node, path: String, range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard case .scalar(let scalar) = node, let value = Int(scalar.string) else {
            throw error(node, path, "must be a whole number")
        }
        guard range.contains(value) else { throw error(node, path, "\(value) is outside \(range.lowerBound)…\(range.upperBound)") }
        return value
    }
}

/// The problems one load has found so far; a load runs on one thread.
final class ConfigurationProblems: @unchecked Sendable {
    var list: [ConfigurationError] = []
}
