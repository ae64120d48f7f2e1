import NIOCore
import RTP
import SDP
import SRTP

/// What the call layer asks of a call's relay: offer/answer updates, direction changes, injected
/// telephone events, timeouts and release. Runs on the call's event loop.
extension RelayedCallState {
    func update(leg index: Int, _ parameters: MediaLegParameters) throws(MediaError) -> MediaLegLocal {
        guard !released else { throw .released }
        guard index < legs.count else { throw .noSuchLeg(index) }
        let leg = legs[index]
        let now = NIODeadline.now()
        let previous = leg.parameters
        // RFC 4568 §7.1.4: a new address means new contexts; the same key, SSRC and address keep
        // the context, so the rollover counter continues across a re-INVITE.
        let moved = previous?.remote != nil && previous?.remote != parameters.remote
        switch parameters.security {
        case .plain:
            leg.peerKey = nil
            leg.inboundSRTP = nil
            leg.outboundKey = nil
            leg.outboundSRTP = nil
        case .srtp(let suite, let peerKey):
            do {
                if peerKey != leg.peerKey || moved || leg.inboundSRTP == nil {
                    leg.inboundSRTP = try peerKey.map {
                        try SRTPSession(key: $0, direction: .inbound, replayWindowSize: settings.replayWindow)
                    }
                    leg.peerKey = peerKey
                }
                if leg.outboundKey?.suite != suite || moved || leg.outboundSRTP == nil {
                    let key: SRTPMasterKey
                    do {
                        key = try SRTPMasterKey(suite: suite, randomBytes: keySource)
                    } catch {
                        throw MediaError.noRandomness("\(error)")
                    }
                    leg.outboundSRTP = try SRTPSession(key: key, direction: .outbound)
                    leg.outboundKey = key
                    // A new context starts a new stream towards the peer (RFC 3711 §3.3.1).
                    leg.sequenceOffset = 0
                }
            } catch let error as MediaError {
                throw error
            } catch {
                throw .srtp("\(error)")
            }
        }
        leg.parameters = parameters
        if previous?.remote != parameters.remote || !leg.latched {
            leg.remoteRTP = parameters.remote
            leg.latched = false
        }
        if parameters.rtcpMux {
            leg.remoteRTCP = nil
        } else if previous?.remote != parameters.remote || previous?.remoteRTCP != parameters.remoteRTCP || leg.remoteRTCP == nil {
            leg.remoteRTCP = parameters.remoteRTCP ?? parameters.remote.flatMap { Self.nextPort(after: $0) }
        }
        let window = TimeAmount.nanoseconds(Int64(settings.latchingWindow.components.seconds) * 1_000_000_000
            + settings.latchingWindow.components.attoseconds / 1_000_000_000)
        leg.rtpLatch = .learning(until: now + window)
        leg.rtcpLatch = .learning(until: now + window)
        leg.formats = []
        leg.telephoneEventTypes = PayloadTypeSet()
        leg.telephoneEventType = nil
        for format in parameters.payloadFormats where format.payloadType < 128 {
            leg.formats.append((format.payloadType, format.clockRate))
            if format.encoding.lowercased() == "telephone-event" {
                leg.telephoneEventTypes.insert(format.payloadType)
                if format.clockRate == 8_000 { leg.telephoneEventType = format.payloadType }
            }
        }
        leg.lastUpdate = now
        leg.timedOut = false
        rebuildTranslations()
        return MediaLegLocal(rtpPort: leg.ports.rtp, outboundKey: leg.outboundKey)
    }

    func setDirection(leg index: Int, _ direction: MediaDirection) throws(MediaError) {
        guard !released else { throw .released }
        guard index < legs.count, legs[index].parameters != nil else { throw .noSuchLeg(index) }
        legs[index].parameters?.direction = direction
        legs[index].lastUpdate = .now()
        legs[index].timedOut = false
    }

    /// Starts the media timeouts: a call is not expected to carry media before it is answered.
    func answered() {
        guard !released, answeredAt == nil else { return }
        answeredAt = .now()
        let shortest = min(settings.mediaTimeout, settings.holdTimeout)
        let interval = min(TimeAmount.seconds(1), Self.timeAmount(shortest / 4))
        // Cancelled on release, which ends the reference the task holds.
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        timeoutTask = eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            bound.value.checkTimeouts()
        }
    }

    private func checkTimeouts() {
        guard let answeredAt, !released else { return }
        let now = NIODeadline.now()
        for leg in legs {
            guard let parameters = leg.parameters, !leg.timedOut else { continue }
            // A held peer sends no RTP; its RTCP still shows it is there.
            let held = !parameters.direction.sends
            let limit = held ? settings.holdTimeout : settings.mediaTimeout
            let since = max(held ? leg.lastPacket : leg.lastRTP, answeredAt, leg.lastUpdate)
            guard now - since >= Self.timeAmount(limit) else { continue }
            leg.timedOut = true
            let reason =
                held
                ? "no RTP or RTCP from the held peer for \(limit.components.seconds) s"
                : "no RTP from the peer for \(limit.components.seconds) s"
            events(.timeout(callID: callID, leg: leg.index, reason: reason))
        }
    }

    /// Sends an RFC 4733 event to `leg`'s peer: a packet every 50 ms, then the end packet three
    /// times. It continues the stream the relay sends the leg (same SSRC, the next sequence
    /// numbers; later packets are renumbered after it) or starts one when nothing flows yet.
    func sendTelephoneEvent(leg index: Int, event: UInt8, duration: Duration) throws(MediaError) {
        guard !released else { throw .released }
        guard index < legs.count else { throw .noSuchLeg(index) }
        let leg = legs[index]
        guard let payloadType = leg.telephoneEventType else {
            throw .cannotSendTelephoneEvent(leg: index, reason: "the leg did not negotiate telephone-event/8000")
        }
        guard leg.parameters?.direction.receives == true, leg.remoteRTP != nil else {
            throw .cannotSendTelephoneEvent(leg: index, reason: "the leg's peer does not receive media now")
        }
        guard leg.injection == nil else {
            throw .cannotSendTelephoneEvent(leg: index, reason: "an event is still being sent")
        }
        let now = NIODeadline.now()
        if leg.sentSSRC == nil {
            var random = SystemRandomNumberGenerator()
            leg.sentSSRC = random.next()
            leg.sentSequence = UInt16.random(in: 0...0x7FFF, using: &random)
            leg.sentTimestamp = random.next()
            leg.sentAt = now
        }
        let elapsedMicros = max(0, (now - leg.sentAt).nanoseconds / 1_000)
        let timestamp = leg.sentTimestamp &+ UInt32(truncatingIfNeeded: elapsedMicros * 8_000 / 1_000_000)
        let samples = max(Self.eventPacketSamples, Int(duration.components.seconds) * 8_000 + Int(duration.components.attoseconds / 125_000_000_000_000))
        leg.injection = RelayLeg.Injection(
            event: event, payloadType: payloadType, ssrc: leg.sentSSRC!, timestamp: timestamp, elapsedSamples: 0,
            totalSamples: min(samples, Int(UInt16.max)), endPacketsLeft: 3, task: nil)
        sendInjectedPacket(on: leg)
        let bound = NIOLoopBound((call: self, leg: leg), eventLoop: eventLoop)
        leg.injection?.task = eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(50), delay: .milliseconds(50)) { task in
            let (call, leg) = bound.value
            guard leg.injection != nil, !call.released else {
                task.cancel()
                return
            }
            call.sendInjectedPacket(on: leg)
        }
    }

    private func sendInjectedPacket(on leg: RelayLeg) {
        guard var injection = leg.injection, let remote = leg.remoteRTP, let channel = leg.rtpChannel else {
            leg.injection?.task?.cancel()
            leg.injection = nil
            return
        }
        let first = injection.elapsedSamples == 0
        injection.elapsedSamples = min(injection.elapsedSamples + Self.eventPacketSamples, injection.totalSamples)
        let ended = injection.elapsedSamples >= injection.totalSamples
        let sequence = leg.sentSequence &+ 1
        let header = RTPHeader(
            marker: first, payloadType: injection.payloadType, sequenceNumber: sequence, timestamp: injection.timestamp,
            ssrc: injection.ssrc)
        let payload = TelephoneEvent(event: injection.event, isEnd: ended, volume: 10, duration: UInt16(injection.elapsedSamples))
        let bytes = RTPPacket(header: header, payload: payload.serialized()).serialized()
        leg.sentSequence = sequence
        leg.sequenceOffset &+= 1
        leg.sentAt = .now()
        var buffer = ByteBuffer()
        buffer.reserveCapacity(bytes.count + SRTPSession.maximumTrailerLength)
        buffer.writeBytes(bytes)
        leg.outbound.injectedTelephoneEvents += first ? 1 : 0
        // The injected packet shares the stream's numbering; the next forwarded packet is shifted
        // after it by `sequenceOffset`.
        sendInjected(&buffer, to: leg, remote: remote, over: channel)
        if ended {
            injection.endPacketsLeft -= 1
            if injection.endPacketsLeft == 0 {
                injection.task?.cancel()
                leg.injection = nil
                return
            }
        }
        leg.injection = injection
    }

    private func sendInjected(_ buffer: inout ByteBuffer, to leg: RelayLeg, remote: SocketAddress, over channel: any Channel) {
        if leg.isEncrypted, !Self.protect(&buffer, with: leg.outboundSRTP, rtcp: false) {
            leg.outbound.failures += 1
            return
        }
        leg.outbound.packets += 1
        leg.outbound.bytes += UInt64(buffer.readableBytes)
        channel.writeAndFlush(AddressedEnvelope(remoteAddress: remote, data: buffer), promise: nil)
    }

    func statistics() -> MediaCallStatistics {
        MediaCallStatistics(callID: callID, legs: legs.map { $0.statistics() })
    }

    /// Stops everything and closes the sockets; the future completes when they are closed.
    func release() -> EventLoopFuture<Void> {
        released = true
        timeoutTask?.cancel()
        timeoutTask = nil
        var closing: [EventLoopFuture<Void>] = []
        for leg in legs {
            leg.injection?.task?.cancel()
            leg.injection = nil
            for channel in [leg.rtpChannel, leg.rtcpChannel].compactMap({ $0 }) {
                closing.append(channel.close().recover { _ in })
            }
            leg.rtpChannel = nil
            leg.rtcpChannel = nil
            leg.inboundSRTP = nil
            leg.outboundSRTP = nil
        }
        return EventLoopFuture.andAllComplete(closing, on: eventLoop)
    }

    func rebuildTranslations() {
        for source in legs {
            source.translations = legs.map { target in
                guard let sourceFormats = source.parameters?.payloadFormats, let targetFormats = target.parameters?.payloadFormats else {
                    return []
                }
                return sourceFormats.compactMap { format in
                    guard format.payloadType < 128, let match = targetFormats.first(where: { Self.sameFormat($0, format) }) else { return nil }
                    return (format.payloadType, match.payloadType)
                }
            }
        }
    }

    private static func sameFormat(_ a: RTPMap, _ b: RTPMap) -> Bool {
        a.encoding.lowercased() == b.encoding.lowercased() && a.clockRate == b.clockRate && (a.channels ?? 1) == (b.channels ?? 1)
    }

    static func nextPort(after address: SocketAddress) -> SocketAddress? {
        guard let ip = address.ipAddress, let port = address.port, port < 65_535 else { return nil }
        return try? SocketAddress(ipAddress: ip, port: port + 1)
    }

    static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
