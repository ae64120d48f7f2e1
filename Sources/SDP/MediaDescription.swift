/// One media description: the `m=` line and the `i=`, `c=`, `b=`, `k=` and `a=` lines after it.
public struct MediaDescription: Sendable, Hashable {
    public var type: MediaType
    /// 0 means the stream is disabled or refused (RFC 3264 §5.1, §6).
    public var port: UInt16
    /// The `/<number of ports>` suffix, when present.
    public var portCount: UInt16?
    public var transport: TransportProtocol
    /// Payload type numbers for RTP profiles, other format names otherwise; kept as text.
    public var formats: [String]
    public var information: String?
    /// Several are legal for layered multicast; unicast SIP uses at most one.
    public var connections: [Connection]
    public var bandwidths: [Bandwidth]
    public var key: String?
    /// Media-level `a=` lines in their original order.
    public var attributes: [SDPAttribute]

    public init(
        type: MediaType,
        port: UInt16,
        portCount: UInt16? = nil,
        transport: TransportProtocol,
        formats: [String],
        information: String? = nil,
        connections: [Connection] = [],
        bandwidths: [Bandwidth] = [],
        key: String? = nil,
        attributes: [SDPAttribute] = []
    ) {
        self.type = type
        self.port = port
        self.portCount = portCount
        self.transport = transport
        self.formats = formats
        self.information = information
        self.connections = connections
        self.bandwidths = bandwidths
        self.key = key
        self.attributes = attributes
    }
}

/// The `<media>` field of `m=`; open-ended, so a struct rather than an enum.
public struct MediaType: RawRepresentable, Sendable, Hashable, ExpressibleByStringLiteral, CustomStringConvertible {
    public var rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }

    public static let audio: MediaType = "audio"
    public static let video: MediaType = "video"
    public static let text: MediaType = "text"
    public static let application: MediaType = "application"
    public static let message: MediaType = "message"
    public static let image: MediaType = "image"

    public var description: String { rawValue }
}

/// The `<proto>` field of `m=`.
public struct TransportProtocol: RawRepresentable, Sendable, Hashable, ExpressibleByStringLiteral,
    CustomStringConvertible
{
    public var rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }

    public static let rtpAVP: TransportProtocol = "RTP/AVP"
    public static let rtpAVPF: TransportProtocol = "RTP/AVPF"
    public static let rtpSAVP: TransportProtocol = "RTP/SAVP"
    public static let rtpSAVPF: TransportProtocol = "RTP/SAVPF"
    public static let udpTLSRTPSAVP: TransportProtocol = "UDP/TLS/RTP/SAVP"
    public static let udpTLSRTPSAVPF: TransportProtocol = "UDP/TLS/RTP/SAVPF"

    public var description: String { rawValue }

    private var components: [Substring] {
        rawValue.uppercased().split(separator: "/", omittingEmptySubsequences: false)
    }

    /// The profile promises SRTP (SAVP or SAVPF), whatever carries the keys.
    public var isSecure: Bool {
        guard let profile = components.last else { return false }
        return profile == "SAVP" || profile == "SAVPF"
    }

    public var isRTP: Bool { components.contains("RTP") }

    /// DTLS-SRTP keys itself through a handshake (RFC 5764), not through `a=crypto`.
    public var usesDTLS: Bool {
        let parts = components
        return parts.contains("RTP") && parts.contains("TLS")
    }

    /// RTP/AVP, RTP/AVPF, RTP/SAVP or RTP/SAVPF: the profiles SDES negotiation applies to.
    public var isPlainOrSDESRTP: Bool {
        let parts = components
        return parts.count == 2 && parts[0] == "RTP" && ["AVP", "AVPF", "SAVP", "SAVPF"].contains(parts[1])
    }
}
