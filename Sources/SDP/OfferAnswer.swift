// RFC 3264 offer/answer for audio legs with SDES-SRTP (RFC 4568), as pure functions. Each call
// leg is negotiated on its own: nothing here remembers another leg's choices.

extension SessionDescription {
    /// Answers this offer: one m= line per offered one, in the same order; a stream we cannot
    /// take is refused with port 0. Throws when no stream could be accepted (the caller answers
    /// 488 with the error's reason as Warning), unless the offerer disabled every stream itself.
    ///
    /// - Parameters:
    ///   - localPorts: our RTP port for each m= line, by index; a missing or 0 entry refuses
    ///     that stream.
    ///   - reusingKeysFrom: the streams of the previous negotiation of this dialog, so a re-INVITE keeps
    ///     our key when the suite is unchanged (and the SRTP layer can keep its rollover counter).
    public func makeAnswer(
        policy: MediaPolicy, localPorts: [UInt16], origin: Origin, reusingKeysFrom previous: [NegotiatedStream] = []
    ) throws(NegotiationError) -> NegotiatedAnswer {
        try policy.validate()
        var answerMedia: [MediaDescription] = []
        var streams: [NegotiatedStream] = []
        var refusals: [NegotiationError] = []
        answerMedia.reserveCapacity(media.count)

        for (index, offered) in media.enumerated() {
            guard offered.port != 0 else {
                answerMedia.append(Self.refused(offered))
                continue
            }
            let localPort = index < localPorts.count ? localPorts[index] : 0
            let reuse = previous.first { $0.index == index }?.srtp
            do {
                let (answered, stream) = try answerStream(
                    offered, index: index, policy: policy, localPort: localPort, reuse: reuse)
                answerMedia.append(answered)
                streams.append(stream)
            } catch {
                if error.code == .keyGeneration { throw error }
                refusals.append(error)
                answerMedia.append(Self.refused(offered))
            }
        }

        if streams.isEmpty, !refusals.isEmpty {
            // The audio stream's reason is the one the caller needs to see, not that video was refused.
            throw refusals.first { media[$0.streamIndex ?? 0].type == .audio } ?? refusals[0]
        }
        let answer = SessionDescription(
            origin: origin,
            sessionName: policy.sessionName,
            connection: Connection(address: policy.connectionAddress),
            timings: timings.isEmpty ? [Timing(start: 0, stop: 0)] : timings,
            media: answerMedia)
        return NegotiatedAnswer(answer: answer, streams: streams)
    }

    /// An offer with one audio stream built from the policy: its codecs in order, telephone-event,
    /// and for SRTP one `a=crypto` per accepted suite (tags 1, 2, …) with fresh keys.
    public static func makeOffer(
        policy: MediaPolicy, localPort: UInt16, origin: Origin, reusingKeysFrom previous: NegotiatedStream? = nil
    ) throws(NegotiationError) -> SessionDescription {
        try policy.validate()
        guard localPort != 0 else {
            throw NegotiationError(code: .noLocalPort, reason: "no local port for the offered stream", streamIndex: 0)
        }

        var used = Set<UInt8>()
        var formats: [String] = []
        var attributes: [SDPAttribute] = []
        var dynamicCandidates = Array(UInt8(96)...UInt8(127)).makeIterator()
        func nextDynamic(avoiding reserved: UInt8?) -> UInt8? {
            while let candidate = dynamicCandidates.next() {
                if !used.contains(candidate), candidate != reserved { return candidate }
            }
            return nil
        }
        let reservedEvent = policy.telephoneEvent ? policy.telephoneEventPayloadType : nil

        for codec in policy.codecs {
            var payloadType = codec.staticPayloadType
            if let fixed = payloadType, used.contains(fixed) || fixed == reservedEvent { payloadType = nil }
            if payloadType == nil { payloadType = nextDynamic(avoiding: reservedEvent) }
            guard let payloadType else {
                throw NegotiationError(code: .invalidPolicy, reason: "the media policy has more codecs than payload types")
            }
            used.insert(payloadType)
            formats.append(String(payloadType))
            attributes.append(
                RTPMap(payloadType: payloadType, encoding: codec.encoding, clockRate: codec.clockRate, channels: codec.channels)
                    .attribute)
            if let parameters = codec.formatParameters {
                attributes.append(SDPAttribute("fmtp", String(payloadType) + " " + parameters))
            }
        }

        if policy.telephoneEvent {
            // One telephone-event per codec clock rate, so the event clock can match the codec chosen.
            var clockRates: [UInt32] = []
            for codec in policy.codecs where !clockRates.contains(codec.clockRate) { clockRates.append(codec.clockRate) }
            for clockRate in clockRates {
                let wanted = policy.telephoneEventPayloadType
                let payloadType = used.contains(wanted) ? nextDynamic(avoiding: nil) : wanted
                guard let payloadType else { break }
                used.insert(payloadType)
                formats.append(String(payloadType))
                attributes.append(RTPMap(payloadType: payloadType, encoding: "telephone-event", clockRate: clockRate).attribute)
                attributes.append(SDPAttribute("fmtp", String(payloadType) + " " + policy.telephoneEvents.description))
            }
        }
        if let ptime = policy.ptime { attributes.append(SDPAttribute("ptime", String(ptime))) }
        if policy.rtcpMux { attributes.append(SDPAttribute("rtcp-mux")) }
        if policy.srtp != .off {
            for (offset, suite) in policy.acceptedSuites.enumerated() {
                let key = try makeKey(for: suite, policy: policy, reuse: previous?.srtp)
                let crypto = CryptoAttribute(
                    tag: UInt32(offset + 1), suite: suite, keyParameters: [SRTPKeyParameter(keySalt: key)])
                attributes.append(crypto.attribute)
            }
        }
        attributes.append(MediaDirection.sendrecv.attribute)

        let stream = MediaDescription(
            type: .audio, port: localPort, transport: policy.srtp == .required ? .rtpSAVP : .rtpAVP,
            formats: formats, attributes: attributes)
        return SessionDescription(
            origin: origin, sessionName: policy.sessionName, connection: Connection(address: policy.connectionAddress),
            media: [stream])
    }

    /// Reads the peer's answer to this offer (ours, made with the same policy): which codec, which
    /// keys, where to send. Throws when the answer cannot be used; the caller then ends the call.
    public func negotiatedStreams(answer: SessionDescription, policy: MediaPolicy) throws(NegotiationError)
        -> [NegotiatedStream]
    {
        guard answer.media.count == media.count else {
            throw NegotiationError(
                code: .invalidDescription,
                reason: "the answer has \(answer.media.count) m= line(s), the offer had \(media.count)")
        }
        var streams: [NegotiatedStream] = []
        for (index, (ours, theirs)) in zip(media, answer.media).enumerated() where ours.port != 0 && theirs.port != 0 {
            func fail(_ code: NegotiationError.Code, _ reason: String) -> NegotiationError {
                NegotiationError(code: code, reason: reason, streamIndex: index)
            }
            guard theirs.type == ours.type else {
                throw fail(.invalidDescription, "the answer has media type \(quoted(theirs.type.rawValue)) where the offer had \(quoted(ours.type.rawValue))")
            }
            guard let remote = answer.connection(of: theirs) else {
                throw fail(.invalidDescription, "the answer has no connection address (c=) for the stream")
            }

            let ourMaps = ours.rtpMapTable()
            let theirMaps = theirs.rtpMapTable()
            var selected: (codec: Codec, send: UInt8, receive: UInt8)?
            for payloadType in theirs.payloadTypes {
                guard let map = theirMaps[payloadType] ?? RTPMap.staticPayloadType(payloadType),
                    let codec = policy.codecs.first(where: { $0.matches(map) }),
                    let receive = ours.payloadTypes.first(where: { pt in
                        (ourMaps[pt] ?? RTPMap.staticPayloadType(pt)).map(codec.matches) ?? false
                    })
                else { continue }
                var negotiated = codec
                negotiated.formatParameters =
                    theirs.formatParameters(forPayloadType: payloadType) ?? ours.formatParameters(forPayloadType: receive)
                selected = (negotiated, payloadType, receive)
                break
            }
            guard let selected else {
                throw fail(.noAcceptableCodec, "the answer selects none of the codecs offered (\(list(policy.codecs.map(\.description))))")
            }

            var events: PayloadTypes?
            var remoteEvents: TelephoneEventSet?
            if let theirEvent = theirs.telephoneEvent(clockRate: selected.codec.clockRate),
                let ourEvent = ours.telephoneEvent(clockRate: selected.codec.clockRate)
            {
                events = PayloadTypes(send: theirEvent.payloadType, receive: ourEvent.payloadType)
                remoteEvents = theirEvent.events
            }

            var srtp: SRTPParameters?
            let ourCrypto = ours.attributes.all(named: "crypto").compactMap { try? CryptoAttribute(parsing: $0.value ?? "") }
            if !ourCrypto.isEmpty {
                let byTag = Dictionary(ourCrypto.map { ($0.tag, $0) }, uniquingKeysWith: { first, _ in first })
                let selection = Self.selectCrypto(in: theirs, accepting: policy.acceptedSuites, offered: byTag)
                if let chosen = selection.chosen, let local = byTag[chosen.tag] {
                    srtp = SRTPParameters(
                        suite: chosen.suite, tag: chosen.tag, localKeySalt: local.keyParameters[0].keySalt,
                        remoteKeySalt: chosen.keyParameters[0].keySalt)
                } else if ours.transport.isSecure || theirs.transport.isSecure || policy.srtp == .required {
                    throw fail(.noAcceptableCrypto, selection.answerSummary)
                }
            } else if theirs.transport.isSecure {
                throw fail(.invalidDescription, "the answer uses \(theirs.transport) but no keys were offered")
            }

            streams.append(
                NegotiatedStream(
                    index: index, mediaType: theirs.type, transport: theirs.transport, localPort: ours.port,
                    remoteAddress: remote.address, remotePort: theirs.port, remoteRTCP: theirs.rtcp,
                    rtcpMux: ours.rtcpMux && theirs.rtcpMux, codec: selected.codec,
                    payloadTypes: PayloadTypes(send: selected.send, receive: selected.receive),
                    telephoneEvent: events, remoteTelephoneEvents: remoteEvents,
                    direction: answer.direction(of: theirs).reversed, remotePtime: theirs.ptime, srtp: srtp))
        }
        guard !streams.isEmpty else {
            throw NegotiationError(code: .invalidDescription, reason: "the answer refused every stream")
        }
        return streams
    }

    // MARK: Answering one stream

    private func answerStream(
        _ offered: MediaDescription, index: Int, policy: MediaPolicy, localPort: UInt16, reuse: SRTPParameters?
    ) throws(NegotiationError) -> (MediaDescription, NegotiatedStream) {
        func fail(_ code: NegotiationError.Code, _ reason: String) -> NegotiationError {
            NegotiationError(code: code, reason: reason, streamIndex: index)
        }
        let transport = offered.transport
        guard offered.type == .audio else {
            throw fail(.unsupportedMediaType, "media type \(quoted(offered.type.rawValue)) is not supported, only audio")
        }
        guard !transport.usesDTLS else {
            throw fail(.unsupportedTransport, "DTLS-SRTP (\(quoted(transport.rawValue))) is not supported, only SDES (a=crypto)")
        }
        guard transport.isPlainOrSDESRTP else {
            throw fail(.unsupportedTransport, "transport protocol \(quoted(transport.rawValue)) is not supported")
        }
        guard localPort != 0 else { throw fail(.noLocalPort, "no local port was allocated for the stream") }
        guard let remote = connection(of: offered) else {
            throw fail(.invalidDescription, "no connection address (c=) for the stream")
        }

        var crypto: CryptoAttribute?
        switch policy.srtp {
        case .off:
            guard !transport.isSecure else {
                throw fail(.srtpDisabled, "\(transport) offered but SRTP is disabled for this leg")
            }
        case .required, .optional:
            let selection = Self.selectCrypto(in: offered, accepting: policy.acceptedSuites, offered: nil)
            crypto = selection.chosen
            if crypto == nil {
                if transport.isSecure {
                    throw fail(.noAcceptableCrypto, selection.summary)
                }
                if policy.srtp == .required {
                    let detail = selection.offeredCount == 0 ? "" : "; " + selection.summary
                    throw fail(.srtpRequired, "SRTP is required but \(transport) was offered\(detail)")
                }
            }
        }

        guard let choice = Self.chooseCodec(offered, policy: policy) else {
            throw fail(.noAcceptableCodec, Self.codecRefusal(offered, policy: policy))
        }

        var formats = [String(choice.payloadType)]
        var attributes = [
            RTPMap(
                payloadType: choice.payloadType, encoding: choice.map.encoding, clockRate: choice.map.clockRate,
                channels: choice.map.channels
            ).attribute
        ]
        if let parameters = choice.codec.formatParameters {
            attributes.append(SDPAttribute("fmtp", String(choice.payloadType) + " " + parameters))
        }
        var event: TelephoneEventFormat?
        if policy.telephoneEvent, let offeredEvent = offered.telephoneEvent(clockRate: choice.map.clockRate) {
            event = offeredEvent
            formats.append(String(offeredEvent.payloadType))
            attributes.append(
                RTPMap(payloadType: offeredEvent.payloadType, encoding: "telephone-event", clockRate: offeredEvent.clockRate)
                    .attribute)
            attributes.append(
                SDPAttribute("fmtp", String(offeredEvent.payloadType) + " " + policy.telephoneEvents.description))
        }
        if let ptime = policy.ptime { attributes.append(SDPAttribute("ptime", String(ptime))) }
        let rtcpMux = policy.rtcpMux && offered.rtcpMux
        if rtcpMux { attributes.append(SDPAttribute("rtcp-mux")) }

        var srtp: SRTPParameters?
        if let crypto {
            let key = try Self.makeKey(for: crypto.suite, policy: policy, reuse: reuse)
            attributes.append(
                CryptoAttribute(tag: crypto.tag, suite: crypto.suite, keyParameters: [SRTPKeyParameter(keySalt: key)])
                    .attribute)
            srtp = SRTPParameters(
                suite: crypto.suite, tag: crypto.tag, localKeySalt: key, remoteKeySalt: crypto.keyParameters[0].keySalt)
        }
        let direction = direction(of: offered).reversed
        attributes.append(direction.attribute)

        let answered = MediaDescription(
            type: offered.type, port: localPort, transport: transport, formats: formats, attributes: attributes)
        let stream = NegotiatedStream(
            index: index, mediaType: offered.type, transport: transport, localPort: localPort,
            remoteAddress: remote.address, remotePort: offered.port, remoteRTCP: offered.rtcp, rtcpMux: rtcpMux,
            codec: choice.codec, payloadTypes: PayloadTypes(send: choice.payloadType, receive: choice.payloadType),
            telephoneEvent: event.map { PayloadTypes(send: $0.payloadType, receive: $0.payloadType) },
            remoteTelephoneEvents: event?.events, direction: direction, remotePtime: offered.ptime, srtp: srtp)
        return (answered, stream)
    }

    private static func refused(_ offered: MediaDescription) -> MediaDescription {
        MediaDescription(
            type: offered.type, port: 0, transport: offered.transport, formats: Array(offered.formats.prefix(1)))
    }

    // MARK: Codecs

    private static func chooseCodec(_ offered: MediaDescription, policy: MediaPolicy)
        -> (payloadType: UInt8, map: RTPMap, codec: Codec)?
    {
        let maps = offered.rtpMapTable()
        var candidates: [(payloadType: UInt8, map: RTPMap)] = []
        for payloadType in offered.payloadTypes {
            if let map = maps[payloadType] ?? RTPMap.staticPayloadType(payloadType) {
                candidates.append((payloadType, map))
            }
        }
        var found: (payloadType: UInt8, map: RTPMap, codec: Codec)?
        if policy.preferLocalCodecOrder {
            outer: for codec in policy.codecs {
                for candidate in candidates where codec.matches(candidate.map) {
                    found = (candidate.payloadType, candidate.map, codec)
                    break outer
                }
            }
        } else {
            outer: for candidate in candidates {
                for codec in policy.codecs where codec.matches(candidate.map) {
                    found = (candidate.payloadType, candidate.map, codec)
                    break outer
                }
            }
        }
        guard var found else { return nil }
        if found.codec.formatParameters == nil {
            found.codec.formatParameters = offered.formatParameters(forPayloadType: found.payloadType)
        }
        return found
    }

    private static func codecRefusal(_ offered: MediaDescription, policy: MediaPolicy) -> String {
        let maps = offered.rtpMapTable()
        let offeredNames = offered.formats.map { format -> String in
            guard case .value(let number) = parseDecimal(Bytes(format.utf8)), number <= 127,
                let map = maps[UInt8(number)] ?? RTPMap.staticPayloadType(UInt8(number))
            else { return bounded(format) }
            return bounded(Codec(encoding: map.encoding, clockRate: map.clockRate, channels: map.channels).description)
        }
        return "no acceptable codec offered (\(list(policy.codecs.map(\.description))) accepted; "
            + "\(list(offeredNames)) offered)"
    }

    // MARK: SDES

    struct CryptoSelection {
        var chosen: CryptoAttribute?
        var offeredCount = 0
        var unacceptedSuites: [String] = []
        var problems: [String] = []
        var accepted: [CryptoSuite] = []

        /// Why nothing was chosen, for a Warning header.
        var summary: String {
            let acceptedNames = list(accepted.map(\.name))
            if offeredCount == 0 { return "no a=crypto line offered (\(acceptedNames) accepted)" }
            if problems.isEmpty {
                return "no acceptable crypto suite offered (\(acceptedNames) accepted; \(list(unacceptedSuites)) offered)"
            }
            return "no acceptable a=crypto line offered: \(list(problems, limit: 3, separator: "; "))"
        }

        /// Why an answer's lines were not usable.
        var answerSummary: String {
            if offeredCount == 0 { return "the answer has no a=crypto line" }
            if problems.isEmpty { return "the answer chose crypto suites that were not offered (\(list(unacceptedSuites)))" }
            return "the answer has no usable a=crypto line: \(list(problems, limit: 3, separator: "; "))"
        }
    }

    /// The first line, in the offerer's order, with an accepted suite, one key, no MKI (not
    /// implemented) and no session parameter we cannot honour. A lifetime is accepted and
    /// ignored. With `offered`, only lines answering one of our tags with the same suite count.
    static func selectCrypto(in media: MediaDescription, accepting accepted: [CryptoSuite], offered: [UInt32: CryptoAttribute]?)
        -> CryptoSelection
    {
        var selection = CryptoSelection(accepted: accepted)
        for attribute in media.attributes where attribute.name == "crypto" {
            selection.offeredCount += 1
            let crypto: CryptoAttribute
            do {
                crypto = try CryptoAttribute(parsing: attribute.value ?? "")
            } catch {
                selection.problems.append("malformed a=crypto: \(error.reason)")
                continue
            }
            let label = "crypto tag \(crypto.tag) (\(crypto.suite.name))"
            guard crypto.suite.isSupported, accepted.contains(crypto.suite) else {
                selection.unacceptedSuites.append(bounded(crypto.suite.name))
                continue
            }
            if let offered {
                guard let ours = offered[crypto.tag], ours.suite == crypto.suite else {
                    selection.problems.append("\(label) does not answer one of the offered lines")
                    continue
                }
            }
            guard crypto.keyParameters.count == 1, crypto.keyParameters[0].mki == nil else {
                selection.problems.append("\(label) uses an MKI, which is not supported")
                continue
            }
            if let parameter = crypto.sessionParameters.first(where: { !isHonoured($0) }) {
                selection.problems.append("\(label) has session parameter \(quoted(parameter)), which is not supported")
                continue
            }
            selection.chosen = crypto
            return selection
        }
        return selection
    }

    /// Parameters that would weaken the stream (unencrypted or unauthenticated SRTP), that libsrtp
    /// cannot do (a key derivation rate other than 0, a separate FEC key), or that we do not know
    /// make the line unacceptable (RFC 4568 §6.3). FEC_ORDER only matters with FEC, and WSH is a
    /// hint that the default replay window already satisfies.
    private static func isHonoured(_ parameter: String) -> Bool {
        let parts = parameter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        switch parts[0] {
        case "KDR": return parts.count == 2 && parts[1] == "0"
        case "FEC_ORDER", "WSH": return true
        default: return false
        }
    }

    private static func makeKey(for suite: CryptoSuite, policy: MediaPolicy, reuse: SRTPParameters?)
        throws(NegotiationError) -> [UInt8]
    {
        guard let length = suite.keySaltLength else {
            throw NegotiationError(code: .invalidPolicy, reason: "crypto suite \(suite.name) is not supported")
        }
        if let reuse, reuse.suite == suite, reuse.localKeySalt.count == length { return reuse.localKeySalt }
        let key = policy.keyGenerator(length)
        guard key.count == length else {
            throw NegotiationError(
                code: .keyGeneration, reason: "the key generator returned \(key.count) bytes, \(length) were asked for")
        }
        return key
    }
}

/// Joins names for a message, bounded so a hostile offer cannot produce a huge Warning header
/// (items from the peer go through `bounded` first).
func list(_ items: [String], limit: Int = 8, separator: String = ", ") -> String {
    guard !items.isEmpty else { return "none" }
    return items.prefix(limit).joined(separator: separator) + (items.count > limit ? separator + "…" : "")
}

extension MediaPolicy {
    var acceptedSuites: [CryptoSuite] {
        var result: [CryptoSuite] = []
        for suite in cryptoSuites where suite.isSupported && !result.contains(suite) { result.append(suite) }
        return result
    }

    func validate() throws(NegotiationError) {
        guard !codecs.isEmpty else {
            throw NegotiationError(code: .invalidPolicy, reason: "the media policy lists no codec")
        }
        if srtp != .off, acceptedSuites.isEmpty {
            throw NegotiationError(
                code: .invalidPolicy, reason: "SRTP is enabled but the media policy lists no supported crypto suite")
        }
    }
}
