import SDP

/// How one leg's media must be protected, from its device's security profile: an encrypted
/// device never gets clear RTP; a non-secure one gets plain RTP; an authenticated one SRTP when
/// it offers or accepts it.
public enum LegMediaSecurity: Sendable, Hashable {
    case srtpRequired
    case srtpOptional
    case plain

    public init(_ profile: SecurityProfile) {
        switch profile {
        case .encrypted: self = .srtpRequired
        case .authenticated: self = .srtpOptional
        case .nonSecure: self = .plain
        }
    }

    var sdpMode: SRTPMode {
        switch self {
        case .srtpRequired: .required
        case .srtpOptional: .optional
        case .plain: .off
        }
    }
}

/// The SDP work of one leg, as pure functions: reading a peer's offer or answer into what the
/// relay needs, and writing the edge's own offer or answer from what the relay allocated. The
/// relay owns every key the edge sends with, so the edge's `a=crypto` always carries the
/// relay's outbound key for that leg.
public enum LegMedia {
    /// The audio stream of a description: the first m=audio with a port.
    static func audioIndex(of description: SessionDescription) -> Int? {
        description.media.firstIndex { $0.type == .audio && $0.port != 0 }
    }

    /// What the edge offers a callee when the caller sent no offer: the relay does not
    /// transcode, so these are what the caller is then offered, in the callee's choice.
    static let delayedOfferCodecs: [Codec] = [.pcmu, .pcma, .g722]

    /// How the relay address of one of the edge's own offers is known again when it comes back.
    static func mediaKey(address: String, port: Int) -> String { "\(address) \(port)" }

    /// The media key of a description's audio stream.
    static func mediaKey(of description: SessionDescription) -> String? {
        guard let index = audioIndex(of: description), let connection = description.connection(of: description.media[index]) else { return nil }
        return mediaKey(address: connection.address, port: Int(description.media[index].port))
    }

    /// The codecs of an offer, as the policy of the other leg: what the edge offers there is what
    /// the first leg can take, so the relay never has to transcode.
    public static func codecs(offeredIn description: SessionDescription) -> [Codec] {
        guard let index = audioIndex(of: description) else { return [] }
        let media = description.media[index]
        var codecs: [Codec] = []
        for payloadType in media.payloadTypes {
            guard let map = media.rtpMap(forPayloadType: payloadType) ?? RTPMap.staticPayloadType(payloadType),
                map.encoding.lowercased() != "telephone-event", map.encoding.lowercased() != "cn"
            else { continue }
            let codec = Codec(
                encoding: map.encoding, clockRate: map.clockRate, channels: map.channels,
                staticPayloadType: payloadType < 96 ? payloadType : nil,
                formatParameters: media.formatParameters(forPayloadType: payloadType))
            if !codecs.contains(where: { $0.matches(map) }) { codecs.append(codec) }
        }
        return codecs
    }

    /// The media policy of a leg.
    public static func policy(
        codecs: [Codec], security: LegMediaSecurity, suites: [CryptoSuite] = CryptoSuite.supported, address: String,
        keyGenerator: @escaping @Sendable (Int) -> [UInt8] = LegMedia.randomBytes
    ) -> MediaPolicy {
        MediaPolicy(
            codecs: codecs, srtp: security.sdpMode, cryptoSuites: suites, connectionAddress: address, keyGenerator: keyGenerator,
            ptime: 20, rtcpMux: false, sessionName: "Outpost")
    }

    /// Bytes for a key that `withRelayKey` replaces before the description leaves the edge.
    public static let randomBytes: @Sendable (Int) -> [UInt8] = { count in
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in generator.next() }
    }

    /// The relay's view of a negotiated stream. `stream.direction` is the edge's side of it; the
    /// relay wants the peer's. `c=0.0.0.0` (RFC 2543 hold) means the peer receives nothing.
    public static func relayDescription(
        of stream: NegotiatedStream, peerFormats: [RTPMap], latchesPlainRTP: Bool
    ) -> MediaLegDescription {
        let direction = peerDirection(of: stream)
        let address: String? = stream.remoteAddress == "0.0.0.0" || stream.remoteAddress == "::" ? nil : stream.remoteAddress
        return MediaLegDescription(
            address: address, port: Int(stream.remotePort), rtcpPort: stream.remoteRTCP.map { Int($0.port) },
            rtcpMux: stream.rtcpMux, payloadFormats: peerFormats, direction: direction,
            srtp: stream.srtp.map { MediaLegDescription.SRTP(suite: $0.suite, peerKeySalt: $0.remoteKeySalt) },
            latchesPlainRTP: latchesPlainRTP && stream.srtp == nil)
    }

    /// What the peer of a negotiated stream does: `stream.direction` is the edge's side; a
    /// peer at `c=0.0.0.0` (RFC 2543 hold) receives nothing.
    static func peerDirection(of stream: NegotiatedStream) -> MediaDirection {
        let direction = stream.direction.reversed
        guard stream.remoteAddress == "0.0.0.0" || stream.remoteAddress == "::" else { return direction }
        return direction.sends ? .sendonly : .inactive
    }

    /// `description` with its audio stream's direction set to `direction` (and no other
    /// direction attribute left to contradict it).
    static func withDirection(_ description: SessionDescription, _ direction: MediaDirection) -> SessionDescription {
        var result = description
        result.attributes.removeAll { $0.value == nil && MediaDirection(rawValue: $0.name) != nil }
        guard let index = audioIndex(of: result) else { return result }
        result.media[index].attributes.removeAll { $0.value == nil && MediaDirection(rawValue: $0.name) != nil }
        result.media[index].attributes.append(SDPAttribute(direction.rawValue))
        return result
    }

    /// The rtpmaps a peer's stream lists, static payload types included.
    public static func formats(of description: SessionDescription, stream index: Int) -> [RTPMap] {
        guard index < description.media.count else { return [] }
        let media = description.media[index]
        return media.payloadTypes.compactMap { media.rtpMap(forPayloadType: $0) ?? RTPMap.staticPayloadType($0) }
    }

    /// `description` with its stream's `a=crypto` key replaced by the relay's outbound key.
    public static func withRelayKey(_ description: SessionDescription, stream index: Int, key: [UInt8]?) -> SessionDescription {
        guard let key, index < description.media.count else { return description }
        var result = description
        var media = result.media[index]
        media.attributes = media.attributes.map { attribute in
            guard attribute.name == "crypto", let crypto = try? CryptoAttribute(parsing: attribute.value ?? "") else { return attribute }
            return CryptoAttribute(
                tag: crypto.tag, suite: crypto.suite, keyParameters: [SRTPKeyParameter(keySalt: key)],
                sessionParameters: crypto.sessionParameters
            ).attribute
        }
        result.media[index] = media
        return result
    }
}
