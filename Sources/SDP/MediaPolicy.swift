// The values offer/answer works with: what the local side accepts (policy), what came out of a
// negotiation (streams), and why a negotiation failed (error).

/// An audio codec the edge can carry.
public struct Codec: Sendable, Hashable, CustomStringConvertible {
    /// Compared case-insensitively, as RFC 4855 asks for encoding names.
    public var encoding: String
    public var clockRate: UInt32
    /// Nil means 1.
    public var channels: UInt8?
    /// The RFC 3551 number, which offers use instead of a dynamic one.
    public var staticPayloadType: UInt8?
    /// fmtp we put in offers and answers; nil in an answer means "repeat the offer's".
    public var formatParameters: String?

    public init(
        encoding: String, clockRate: UInt32, channels: UInt8? = nil, staticPayloadType: UInt8? = nil,
        formatParameters: String? = nil
    ) {
        self.encoding = encoding
        self.clockRate = clockRate
        self.channels = channels
        self.staticPayloadType = staticPayloadType
        self.formatParameters = formatParameters
    }

    public static let pcmu = Codec(encoding: "PCMU", clockRate: 8_000, staticPayloadType: 0)
    public static let pcma = Codec(encoding: "PCMA", clockRate: 8_000, staticPayloadType: 8)
    /// G.722 keeps the 8000 clock rate of RFC 3551 although it samples at 16 kHz.
    public static let g722 = Codec(encoding: "G722", clockRate: 8_000, staticPayloadType: 9)
    public static let g729 = Codec(encoding: "G729", clockRate: 8_000, staticPayloadType: 18)
    public static let opus = Codec(encoding: "opus", clockRate: 48_000, channels: 2)

    public func matches(_ map: RTPMap) -> Bool {
        map.clockRate == clockRate && (map.channels ?? 1) == (channels ?? 1)
            && map.encoding.lowercased() == encoding.lowercased()
    }

    public var description: String {
        var text = encoding + "/" + String(clockRate)
        if let channels, channels != 1 { text += "/" + String(channels) }
        return text
    }
}

/// Whether a leg must, may, or must not use SRTP.
public enum SRTPMode: Sendable, Hashable {
    /// Fail closed: no stream without an accepted `a=crypto`.
    case required
    /// SRTP when the peer offers an acceptable `a=crypto` (in RTP/SAVP or best-effort in RTP/AVP),
    /// plain RTP otherwise; our offers are RTP/AVP carrying `a=crypto`.
    case optional
    /// Plain RTP; an RTP/SAVP offer is refused.
    case off
}

/// What the local side accepts and how it describes itself, per device or trunk.
public struct MediaPolicy: Sendable {
    /// Acceptable codecs, most preferred first.
    public var codecs: [Codec]
    public var srtp: SRTPMode
    /// Acceptable suites, most preferred first (the order of our offers).
    public var cryptoSuites: [CryptoSuite]
    /// Our media address, written in `c=`.
    public var connectionAddress: String
    /// Returns `count` cryptographically random bytes. Injected so this layer needs no C.
    public var keyGenerator: @Sendable (_ count: Int) -> [UInt8]
    /// Accept and offer RFC 4733 telephone-event.
    public var telephoneEvent: Bool
    /// The number used for telephone-event in our offers.
    public var telephoneEventPayloadType: UInt8
    /// Events we can receive.
    public var telephoneEvents: TelephoneEventSet
    /// `a=ptime` we write, if any.
    public var ptime: Int?
    /// Accept `a=rtcp-mux` when offered, and offer it.
    public var rtcpMux: Bool
    /// Choose the codec by our order instead of the offerer's (RFC 3264 lets the answerer do
    /// either; following the offerer is the default).
    public var preferLocalCodecOrder: Bool
    /// `s=` of the descriptions we write.
    public var sessionName: String

    public init(
        codecs: [Codec],
        srtp: SRTPMode,
        cryptoSuites: [CryptoSuite] = CryptoSuite.supported,
        connectionAddress: String,
        keyGenerator: @escaping @Sendable (_ count: Int) -> [UInt8],
        telephoneEvent: Bool = true,
        telephoneEventPayloadType: UInt8 = 101,
        telephoneEvents: TelephoneEventSet = .dtmf,
        ptime: Int? = 20,
        rtcpMux: Bool = false,
        preferLocalCodecOrder: Bool = false,
        sessionName: String = "-"
    ) {
        self.codecs = codecs
        self.srtp = srtp
        self.cryptoSuites = cryptoSuites
        self.connectionAddress = connectionAddress
        self.keyGenerator = keyGenerator
        self.telephoneEvent = telephoneEvent
        self.telephoneEventPayloadType = telephoneEventPayloadType
        self.telephoneEvents = telephoneEvents
        self.ptime = ptime
        self.rtcpMux = rtcpMux
        self.preferLocalCodecOrder = preferLocalCodecOrder
        self.sessionName = sessionName
    }
}

/// The payload type numbers of one format in each direction; they differ only when the answerer
/// renumbered.
public struct PayloadTypes: Sendable, Hashable {
    /// The number we put in packets we send (the peer's numbering).
    public var send: UInt8
    /// The number we expect in packets we receive (our numbering).
    public var receive: UInt8

    public init(send: UInt8, receive: UInt8) {
        self.send = send
        self.receive = receive
    }
}

/// The SDES outcome of one stream: what the SRTP layer needs to create its two sessions.
public struct SRTPParameters: Sendable, Hashable, CustomStringConvertible {
    public var suite: CryptoSuite
    /// The tag of the accepted `a=crypto` line.
    public var tag: UInt32
    /// Our key||salt: protects what we send.
    public var localKeySalt: [UInt8]
    /// The peer's key||salt: unprotects what we receive.
    public var remoteKeySalt: [UInt8]

    public init(suite: CryptoSuite, tag: UInt32, localKeySalt: [UInt8], remoteKeySalt: [UInt8]) {
        self.suite = suite
        self.tag = tag
        self.localKeySalt = localKeySalt
        self.remoteKeySalt = remoteKeySalt
    }

    /// Keys are left out so the value can be logged.
    public var description: String { "\(suite.name) (tag \(tag))" }
}

/// One accepted media stream, from our point of view.
public struct NegotiatedStream: Sendable, Hashable {
    /// Position of the m= line.
    public var index: Int
    public var mediaType: MediaType
    public var transport: TransportProtocol
    public var localPort: UInt16
    public var remoteAddress: String
    public var remotePort: UInt16
    /// The peer's RFC 3605 RTCP address, when it gave one.
    public var remoteRTCP: RTCPAttribute?
    public var rtcpMux: Bool
    public var codec: Codec
    public var payloadTypes: PayloadTypes
    public var telephoneEvent: PayloadTypes?
    /// Events the peer can receive.
    public var remoteTelephoneEvents: TelephoneEventSet?
    /// Our direction: `.sendonly` means we send and do not receive.
    public var direction: MediaDirection
    public var remotePtime: Int?
    /// Nil for plain RTP.
    public var srtp: SRTPParameters?

    public init(
        index: Int, mediaType: MediaType, transport: TransportProtocol, localPort: UInt16, remoteAddress: String,
        remotePort: UInt16, remoteRTCP: RTCPAttribute?, rtcpMux: Bool, codec: Codec, payloadTypes: PayloadTypes,
        telephoneEvent: PayloadTypes?, remoteTelephoneEvents: TelephoneEventSet?, direction: MediaDirection,
        remotePtime: Int?, srtp: SRTPParameters?
    ) {
        self.index = index
        self.mediaType = mediaType
        self.transport = transport
        self.localPort = localPort
        self.remoteAddress = remoteAddress
        self.remotePort = remotePort
        self.remoteRTCP = remoteRTCP
        self.rtcpMux = rtcpMux
        self.codec = codec
        self.payloadTypes = payloadTypes
        self.telephoneEvent = telephoneEvent
        self.remoteTelephoneEvents = remoteTelephoneEvents
        self.direction = direction
        self.remotePtime = remotePtime
        self.srtp = srtp
    }
}

/// An answer and what it set up.
public struct NegotiatedAnswer: Sendable, Hashable {
    public var answer: SessionDescription
    /// Accepted streams only, in m= line order.
    public var streams: [NegotiatedStream]

    public init(answer: SessionDescription, streams: [NegotiatedStream]) {
        self.answer = answer
        self.streams = streams
    }
}

/// Why negotiation failed. The caller answers `488 Not Acceptable Here` with
/// `Warning: <warningCode> <host> "<reason>"`.
public struct NegotiationError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        case unsupportedMediaType
        case unsupportedTransport
        case noAcceptableCodec
        /// The offer carries SRTP keys, but none we accept.
        case noAcceptableCrypto
        /// Plain RTP offered to a leg that must be encrypted.
        case srtpRequired
        /// SRTP offered to a leg configured for plain RTP.
        case srtpDisabled
        /// No local port was given for the stream.
        case noLocalPort
        /// The peer's description cannot be used (missing c=, answer that does not match the
        /// offer).
        case invalidDescription
        /// Our own configuration cannot produce a description (no codecs, no suites). Not the
        /// peer's fault: the caller should answer 500, not 488.
        case invalidPolicy
        /// The key generator did not return the bytes asked for.
        case keyGeneration
    }

    public var code: Code
    public var reason: String
    /// The m= line concerned, when there is one.
    public var streamIndex: Int?

    public init(code: Code, reason: String, streamIndex: Int? = nil) {
        self.code = code
        self.reason = reason
        self.streamIndex = streamIndex
    }

    /// RFC 3261 §20.43 warning code.
    public var warningCode: Int {
        switch code {
        case .unsupportedMediaType: 304
        case .unsupportedTransport, .srtpRequired, .srtpDisabled: 302
        case .noAcceptableCodec: 305
        case .noAcceptableCrypto, .noLocalPort, .invalidDescription, .invalidPolicy, .keyGeneration: 399
        }
    }

    public var description: String {
        guard let streamIndex else { return reason }
        return "stream \(streamIndex): \(reason)"
    }
}
