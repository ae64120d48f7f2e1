import PKI

/// The edge's certificates the generated files hand to phones.
public struct ProvisioningMaterial: Sendable {
    /// The edge CA: issues the phones' and the edge's certificates.
    public var authority: Certificate
    /// The SRST certificate the edge's SIP/TLS listener presents.
    public var server: Certificate
    /// The SAST identity (RSA) that signs trust lists and `.sgn` files.
    public var signer: SigningIdentity

    public init(authority: Certificate, server: Certificate, signer: SigningIdentity) {
        self.authority = authority
        self.server = server
        self.signer = signer
    }
}

/// What the generated files tell phones about the edge.
public struct ProvisioningSettings: Sendable, Equatable {
    /// The address phones reach the edge on (SRST reference, SIP server).
    public var edgeAddress: String
    /// The edge's name in Cisco's callManagerGroup and srstInfo, and the trust-list DNS name.
    public var edgeName: String
    /// SIP over TLS, for authenticated and encrypted devices.
    public var secureSIPPort: Int
    /// SIP over UDP/TCP, for non-secure devices.
    public var sipPort: Int
    /// Seconds a Cisco phone waits on a recovered call manager before failing back.
    public var connectionMonitorDuration: Int
    /// Where phones fetch generated files, without a trailing slash (`tftp://10.0.0.5`): Yealink
    /// phones download the edge CA from here.
    public var fileServerURL: String
    /// The digest of trust-list and `.sgn` signatures: SHA-1 unless every phone's firmware
    /// verifies SHA-256 (see `CiscoSignedHeader`).
    public var signatureDigest: DigestAlgorithm
    /// The timestamp written into trust lists and `.sgn` headers.
    public var signingTime: PKITime

    public init(
        edgeAddress: String, edgeName: String, secureSIPPort: Int = 5061, sipPort: Int = 5060, connectionMonitorDuration: Int = 120,
        fileServerURL: String? = nil, signatureDigest: DigestAlgorithm = .sha1, signingTime: PKITime = .now
    ) {
        self.edgeAddress = edgeAddress
        self.edgeName = edgeName
        self.secureSIPPort = secureSIPPort
        self.sipPort = sipPort
        self.connectionMonitorDuration = connectionMonitorDuration
        self.fileServerURL = fileServerURL ?? Self.tftpURL(host: edgeAddress, port: 69)
        self.signatureDigest = signatureDigest
        self.signingTime = signingTime
    }

    /// `tftp://host[:port]`, an IPv6 host in brackets, the port left out when it is 69.
    public static func tftpURL(host: String, port: Int) -> String {
        let authority = host.contains(":") ? "[\(host)]" : host
        return port == 69 ? "tftp://\(authority)" : "tftp://\(authority):\(port)"
    }

    /// The edge address as 4 bytes when it is dotted-quad IPv4 (the trust lists' IP field).
    var edgeIPv4Bytes: [UInt8]? {
        let parts = edgeAddress.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        let bytes = parts.compactMap { $0.count <= 3 ? UInt8($0) : nil }
        return bytes.count == 4 ? bytes : nil
    }
}

/// Why the files could not be generated.
public struct ProvisioningError: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }

    public init(_ reason: String) {
        self.reason = reason
    }
}
