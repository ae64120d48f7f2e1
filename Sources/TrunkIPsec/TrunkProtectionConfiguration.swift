import XFRM

/// The ESP transforms the trunk may use, named as strongSwan names its proposals so that the same
/// word configures both ends.
public enum TrunkCipherSuite: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// `rfc4106(gcm(aes))`, AES-128 key + 4-byte salt, 128-bit ICV.
    case aes128gcm16
    /// `rfc4106(gcm(aes))`, AES-256 key + 4-byte salt, 128-bit ICV. The default.
    case aes256gcm16
    /// `cbc(aes)` with a 128-bit key and `hmac(sha256)` (256-bit key) truncated to 128 bits.
    case aes128sha256 = "aes128-sha256"
    /// `cbc(aes)` with a 256-bit key and `hmac(sha256)` (256-bit key) truncated to 128 bits.
    case aes256sha256 = "aes256-sha256"

    public var isAEAD: Bool { self == .aes128gcm16 || self == .aes256gcm16 }

    /// The kernel crypto API name of the AEAD or the cipher.
    public var cipherName: String { isAEAD ? "rfc4106(gcm(aes))" : "cbc(aes)" }
    /// The kernel crypto API name of the authenticator (non-AEAD suites).
    public var authenticationName: String? { isAEAD ? nil : "hmac(sha256)" }

    /// Bytes of AEAD key material (key then salt) or of the cipher key.
    public var cipherKeyBytes: Int {
        switch self {
        case .aes128gcm16: 20
        case .aes256gcm16: 36
        case .aes128sha256: 16
        case .aes256sha256: 32
        }
    }

    /// Bytes of the HMAC key (RFC 4868: the hash's output size); 0 for AEAD suites.
    public var authenticationKeyBytes: Int { isAEAD ? 0 : 32 }

    /// The ICV length in bits (the GCM tag, or the HMAC truncation).
    public var icvBits: Int { 128 }

    /// What the key file must hold for this suite, in words.
    public var keyMaterialDescription: String {
        switch self {
        case .aes128gcm16: "20 bytes (16-byte AES-128 key followed by the 4-byte salt)"
        case .aes256gcm16: "36 bytes (32-byte AES-256 key followed by the 4-byte salt)"
        case .aes128sha256: "16 bytes (AES-128 key)"
        case .aes256sha256: "32 bytes (AES-256 key)"
        }
    }

    public var description: String {
        switch self {
        case .aes128gcm16: "rfc4106(gcm(aes)) AES-128, 128-bit ICV"
        case .aes256gcm16: "rfc4106(gcm(aes)) AES-256, 128-bit ICV"
        case .aes128sha256: "cbc(aes) AES-128 + hmac(sha256) 128-bit ICV"
        case .aes256sha256: "cbc(aes) AES-256 + hmac(sha256) 128-bit ICV"
        }
    }
}

/// How the trunk to the call manager is protected by IPsec. A plain value with the defaults of
/// the embedded configuration; `validate()` says what is wrong with it.
public struct TrunkProtectionConfiguration: Sendable, Hashable {
    /// Who installs the SAs.
    public enum Keying: String, Sendable, Hashable {
        /// The edge installs policies and SAs itself, with keys from the key file.
        case manual
        /// An IKE daemon (strongSwan or another) installs everything; the edge installs nothing,
        /// verifies that the trunk is covered, and monitors it.
        case external
    }

    /// Which traffic between the edge and a call manager the policies cover.
    public enum Coverage: String, Sendable, Hashable {
        /// Only the SIP signalling: the configured protocols to and from the SIP ports.
        case sipPorts = "sip-ports"
        /// Everything between the two hosts.
        case all
    }

    /// A transport the SIP signalling uses.
    public enum TransportProtocol: String, Sendable, Hashable, CaseIterable {
        case udp
        case tcp
        case sctp

        public var number: UInt8 {
            switch self {
            case .udp: 17
            case .tcp: 6
            case .sctp: 132
            }
        }
    }

    /// What the edge does when its policies or SAs disappear.
    public enum Repair: String, Sendable, Hashable {
        /// Re-install them (the trunk stays down until they read back again).
        case automatic
        /// Wait for an operator (`outpost ipsec apply`).
        case manual
    }

    public var keying: Keying
    /// The edge's own trunk addresses, at most one per family.
    public var localAddresses: [XFRMAddress]
    /// The call manager's addresses (IPv4 and/or IPv6); each needs a local address of its family.
    public var callManagers: [XFRMAddress]
    public var coverage: Coverage
    public var sipPorts: [UInt16]
    public var sipProtocols: [TransportProtocol]
    public var suite: TrunkCipherSuite
    /// Tags everything the edge installs (SAs and policy templates): shutdown and reconcile only
    /// ever touch objects with this reqid.
    public var reqid: UInt32
    /// Priority of the edge's policies (lower wins). ICMPv6 neighbour-discovery bypasses, installed
    /// in `all` coverage for IPv6, use `priority - 1`.
    public var priority: UInt32
    /// Soft and hard limits of every SA.
    public var lifetime: XFRMLifetime
    /// Anti-replay window of the SAs, in packets. 0 (the default) turns the check off, as RFC 4303
    /// (section 3.3.3) advises with manual keys: a peer that restarts begins again at sequence
    /// number 1, which a window would drop as replays until the SAs are rekeyed.
    public var replayWindow: UInt8
    /// The key file (manual keying).
    public var keyFile: String
    public var repair: Repair
    /// How often the edge reads the SAD and SPD back even without an event.
    public var verifyIntervalSeconds: Int
    /// How long the old inbound SAs stay after a rekey, so packets the peer sends with the old
    /// SPI until it switches still arrive.
    public var rekeyGraceSeconds: Int
    /// Program the XFRM state of this network namespace (e.g. /run/netns/wan, where the WAN side
    /// of the box lives) instead of the edge's own; nil for the edge's namespace.
    public var networkNamespace: String?

    public init(
        keying: Keying = .manual, localAddresses: [XFRMAddress] = [], callManagers: [XFRMAddress] = [],
        coverage: Coverage = .sipPorts, sipPorts: [UInt16] = [5060, 5061], sipProtocols: [TransportProtocol] = [.udp, .tcp],
        suite: TrunkCipherSuite = .aes256gcm16, reqid: UInt32 = 0x4F50, priority: UInt32 = 1000,
        lifetime: XFRMLifetime = .unlimited, replayWindow: UInt8 = 0, keyFile: String = "/etc/outpost/trunk-ipsec.keys",
        repair: Repair = .automatic, verifyIntervalSeconds: Int = 10, rekeyGraceSeconds: Int = 30
    ) {
        self.keying = keying
        self.localAddresses = localAddresses
        self.callManagers = callManagers
        self.coverage = coverage
        self.sipPorts = sipPorts
        self.sipProtocols = sipProtocols
        self.suite = suite
        self.reqid = reqid
        self.priority = priority
        self.lifetime = lifetime
        self.replayWindow = replayWindow
        self.keyFile = keyFile
        self.repair = repair
        self.verifyIntervalSeconds = verifyIntervalSeconds
        self.rekeyGraceSeconds = rekeyGraceSeconds
    }

    /// The edge's address of `family`, if configured.
    public func localAddress(for family: XFRMAddress.Family) -> XFRMAddress? {
        localAddresses.first { $0.family == family }
    }

    /// Every (local, call manager) pair the trunk uses, in configuration order.
    public var pairs: [TrunkPeer] {
        callManagers.compactMap { manager in
            localAddress(for: manager.family).map { TrunkPeer(local: $0, remote: manager) }
        }
    }

    /// Everything wrong with the configuration, one sentence per problem naming the key.
    public func problems() -> [String] {
        var problems: [String] = []
        if callManagers.isEmpty { problems.append("call_managers: at least one call-manager address is required") }
        if localAddresses.isEmpty { problems.append("local: at least one local (edge) address is required") }
        for family in [XFRMAddress.Family.ipv4, .ipv6] where localAddresses.filter({ $0.family == family }).count > 1 {
            problems.append("local: more than one \(family == .ipv4 ? "IPv4" : "IPv6") address; give one per family")
        }
        var seen: Set<XFRMAddress> = []
        for manager in callManagers {
            if !seen.insert(manager).inserted { problems.append("call_managers: \(manager) is listed twice") }
            if localAddress(for: manager.family) == nil {
                problems.append("call_managers: \(manager) has no local address of its family in local")
            }
            if localAddresses.contains(manager) { problems.append("call_managers: \(manager) is also a local address") }
        }
        for address in localAddresses + callManagers where address == .any(address.family) {
            problems.append("\(address) is the unspecified address")
        }
        if coverage == .sipPorts {
            if sipPorts.isEmpty { problems.append("sip_ports: at least one port is required with coverage sip-ports") }
            if sipPorts.contains(0) { problems.append("sip_ports: port 0 is not a port") }
            if sipProtocols.isEmpty { problems.append("sip_protocols: at least one protocol is required with coverage sip-ports") }
            if Set(sipPorts).count != sipPorts.count { problems.append("sip_ports: a port is listed twice") }
            if Set(sipProtocols).count != sipProtocols.count { problems.append("sip_protocols: a protocol is listed twice") }
        }
        if reqid == 0 { problems.append("reqid: 0 means \"any\" to the kernel and cannot tag the edge's SAs") }
        if priority == 0 { problems.append("priority: must be at least 1 (the neighbour-discovery bypasses use priority - 1)") }
        if keying == .manual && keyFile.isEmpty { problems.append("key_file: required with keying manual") }
        if verifyIntervalSeconds < 1 { problems.append("verify_interval: must be at least 1 second") }
        if rekeyGraceSeconds < 0 { problems.append("rekey_grace: must not be negative") }
        problems.append(contentsOf: Self.lifetimeProblems(lifetime))
        return problems
    }

    static func lifetimeProblems(_ lifetime: XFRMLifetime) -> [String] {
        var problems: [String] = []
        func check(_ soft: UInt64, _ hard: UInt64, _ name: String, unlimited: UInt64) {
            // A soft limit alone is allowed (it only warns); with a hard one it must come first.
            if soft != unlimited && hard != unlimited && soft >= hard {
                problems.append("lifetime: soft \(name) limit \(soft) must be below the hard limit \(hard)")
            }
        }
        check(lifetime.softByteLimit, lifetime.hardByteLimit, "byte", unlimited: .max)
        check(lifetime.softPacketLimit, lifetime.hardPacketLimit, "packet", unlimited: .max)
        check(lifetime.softAddExpiresSeconds, lifetime.hardAddExpiresSeconds, "seconds", unlimited: 0)
        check(lifetime.softUseExpiresSeconds, lifetime.hardUseExpiresSeconds, "use-seconds", unlimited: 0)
        if lifetime.hardByteLimit == 0 || lifetime.hardPacketLimit == 0 {
            problems.append("lifetime: a hard byte or packet limit of 0 would expire the SA on its first packet")
        }
        return problems
    }

    /// Throws the first problem list as one error.
    public func validate() throws(TrunkConfigurationError) {
        let problems = problems()
        if !problems.isEmpty { throw TrunkConfigurationError(file: nil, line: nil, problems: problems) }
    }
}

/// One edge address and one call-manager address of the same family.
public struct TrunkPeer: Sendable, Hashable, CustomStringConvertible {
    public var local: XFRMAddress
    public var remote: XFRMAddress

    public init(local: XFRMAddress, remote: XFRMAddress) {
        self.local = local
        self.remote = remote
    }

    public var description: String { "\(local) <-> \(remote)" }
}

/// A configuration the edge refuses, with every reason.
public struct TrunkConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    public var file: String?
    public var line: Int?
    public var problems: [String]

    public init(file: String?, line: Int?, problems: [String]) {
        self.file = file
        self.line = line
        self.problems = problems
    }

    public var description: String {
        let place = [file, line.map(String.init)].compactMap { $0 }.joined(separator: ":")
        return problems.map { place.isEmpty ? $0 : "\(place): \($0)" }.joined(separator: "\n")
    }
}
