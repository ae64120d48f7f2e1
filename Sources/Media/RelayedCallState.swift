import NIOCore
import RTP
import SDP
import SRTP

/// One call's relay: its legs and everything that moves packets between them. Confined to the
/// call's event loop, where its sockets live, so the hot path takes no lock.
final class RelayedCallState {
    /// The packet's header fields, read once while its bytes are in reach.
    private struct Header {
        var payloadType: UInt8
        var sequence: UInt16
        var timestamp: UInt32
        var ssrc: UInt32
        var event: TelephoneEvent?
    }

    /// Samples per injected telephone-event packet (50 ms at 8 kHz, RFC 4733 §2.5.1.2).
    static let eventPacketSamples = 400

    let callID: String
    let eventLoop: any EventLoop
    let settings: MediaRelaySettings
    private let ring: OutputRing
    let events: @Sendable (MediaEvent) -> Void
    let keySource: @Sendable (Int) throws -> [UInt8]

    private(set) var legs: [RelayLeg] = []
    var answeredAt: NIODeadline?
    var timeoutTask: RepeatedTask?
    var released = false
    var socketErrors: UInt64 = 0

    init(
        callID: String, eventLoop: any EventLoop, settings: MediaRelaySettings, ring: OutputRing,
        keySource: @escaping @Sendable (Int) throws -> [UInt8], events: @escaping @Sendable (MediaEvent) -> Void
    ) {
        self.callID = callID
        self.eventLoop = eventLoop
        self.settings = settings
        self.ring = ring
        self.keySource = keySource
        self.events = events
    }

    func add(_ leg: RelayLeg) {
        legs.append(leg)
        rebuildTranslations()
    }

    // MARK: Receiving

    func receive(_ envelope: AddressedEnvelope<ByteBuffer>, leg index: Int, onRTCPSocket: Bool) {
        guard !released, index < legs.count else { return }
        let leg = legs[index]
        let length = envelope.data.readableBytes
        guard length <= OutputRing.bufferCapacity - SRTPSession.maximumTrailerLength else {
            leg.inbound.malformed += 1
            return
        }
        let kind = envelope.data.withUnsafeReadableBytes { RTPDemultiplex.classify($0) }
        let slot = ring.take()
        ring.buffers[slot].clear()
        ring.buffers[slot].writeImmutableBuffer(envelope.data)
        switch kind {
        case .rtcp:
            relayRTCP(&ring.buffers[slot], from: leg, source: envelope.remoteAddress, onRTCPSocket: onRTCPSocket)
        case .rtp where !onRTCPSocket:
            relayRTP(&ring.buffers[slot], from: leg, source: envelope.remoteAddress)
        default:
            // STUN (no ICE here), RTP on the RTCP port, DTLS or garbage.
            leg.inbound.malformed += 1
        }
    }

    private func relayRTP(_ buffer: inout ByteBuffer, from leg: RelayLeg, source: SocketAddress) {
        guard let parameters = leg.negotiated else {
            leg.inbound.dropped += 1
            return
        }
        let now = NIODeadline.now()
        let fromPeer = leg.remoteRTP == source
        guard fromPeer || (leg.mayLearn(leg.rtpLatch, at: now) && (leg.isEncrypted || parameters.latchesPlainRTP)) else {
            leg.inbound.wrongSource += 1
            return
        }
        let received = buffer.readableBytes
        if leg.isEncrypted {
            switch Self.unprotect(&buffer, with: leg.inboundSRTP, rtcp: false) {
            case .authenticated: break
            case .noPeerKey:
                leg.inbound.dropped += 1
                return
            case .refused(let error):
                count(error, in: leg)
                return
            }
        }
        let events = leg.telephoneEventTypes
        guard let header = buffer.withUnsafeReadableBytes({ Self.header(of: $0, telephoneEvents: events) }) else {
            leg.inbound.malformed += 1
            return
        }
        if !track(header, on: leg, now: now) { return }
        // Only an accepted packet may move or lock the leg's peer address.
        if fromPeer {
            leg.rtpLatch = .locked
        } else {
            learn(rtp: source, on: leg)
        }
        leg.inbound.packets += 1
        leg.inbound.bytes += UInt64(received)
        leg.lastRTP = now
        leg.lastPacket = now
        leg.timedOut = false
        if let event = header.event { observe(event, header: header, on: leg) }

        guard parameters.direction.sends else {
            leg.inbound.dropped += 1
            return
        }
        for target in legs where target !== leg {
            if legs.count > 2 {
                var copy = buffer
                forwardRTP(&copy, header: header, from: leg, to: target, now: now)
            } else {
                forwardRTP(&buffer, header: header, from: leg, to: target, now: now)
            }
        }
    }

    private static func header(of bytes: UnsafeRawBufferPointer, telephoneEvents: PayloadTypeSet) -> Header? {
        guard let view = try? RTPPacketView(validating: bytes) else { return nil }
        var header = Header(
            payloadType: view.payloadType, sequence: view.sequenceNumber, timestamp: view.timestamp, ssrc: view.ssrc)
        if telephoneEvents.contains(view.payloadType) {
            // A malformed event payload is still relayed; only its report to the domain is lost.
            header.event = try? TelephoneEvent(parsing: UnsafeRawBufferPointer(rebasing: view.payload.prefix(TelephoneEvent.encodedLength)))
        }
        return header
    }

    /// RFC 3550 A.1 and A.8 on the leg's stream; false for a duplicate, which is not relayed.
    private func track(_ header: Header, on leg: RelayLeg, now: NIODeadline) -> Bool {
        if leg.trackedSSRC != header.ssrc || leg.sequence == nil {
            leg.trackedSSRC = header.ssrc
            leg.sequence = RTPSequenceTracker(firstSequence: header.sequence)
            leg.jitter = RTPJitterEstimator()
        } else if leg.sequence!.record(header.sequence) == .duplicate {
            // Counted by the tracker, whose figures `statistics()` reports.
            return false
        }
        let clockRate = leg.clockRate(of: header.payloadType)
        if header.event == nil, clockRate > 0 {
            if clockRate != leg.jitterClockRate {
                leg.jitterClockRate = clockRate
                leg.jitter = RTPJitterEstimator()
            }
            let micros = now.uptimeNanoseconds / 1_000
            let arrival = UInt32(truncatingIfNeeded: micros &* UInt64(clockRate) / 1_000_000)
            leg.jitter.record(rtpTimestamp: header.timestamp, arrival: arrival)
        }
        return true
    }

    private func forwardRTP(_ buffer: inout ByteBuffer, header: Header, from leg: RelayLeg, to target: RelayLeg, now: NIODeadline) {
        guard let parameters = target.negotiated, parameters.direction.receives, let remote = target.remoteRTP,
            let channel = target.rtpChannel
        else {
            leg.inbound.dropped += 1
            return
        }
        guard let payloadType = leg.translate(header.payloadType, to: target.index) else {
            leg.inbound.dropped += 1
            return
        }
        let sequence = header.sequence &+ target.sequenceOffset
        let offset = target.sequenceOffset
        if payloadType != header.payloadType || offset != 0 {
            buffer.withVeryUnsafeMutableBytes { raw in
                if payloadType != header.payloadType { RTPPacketView.setPayloadType(payloadType, in: raw) }
                if offset != 0 { RTPPacketView.setSequenceNumber(sequence, in: raw) }
            }
        }
        target.sentSSRC = header.ssrc
        target.sentSequence = sequence
        target.sentTimestamp = header.timestamp
        target.sentAt = now
        send(&buffer, to: target, remote: remote, over: channel, rtcp: false)
    }

    // MARK: RTCP

    private func relayRTCP(_ buffer: inout ByteBuffer, from leg: RelayLeg, source: SocketAddress, onRTCPSocket: Bool) {
        guard let parameters = leg.negotiated, onRTCPSocket != parameters.rtcpMux else {
            leg.inbound.dropped += 1
            return
        }
        let now = NIODeadline.now()
        let expected = parameters.rtcpMux ? leg.remoteRTP : leg.remoteRTCP
        let fromPeer = expected == source
        guard fromPeer || (leg.mayLearn(leg.rtcpLatch, at: now) && (leg.isEncrypted || parameters.latchesPlainRTP)) else {
            leg.inbound.wrongSource += 1
            return
        }
        if leg.isEncrypted {
            switch Self.unprotect(&buffer, with: leg.inboundSRTP, rtcp: true) {
            case .authenticated: break
            case .noPeerKey:
                leg.inbound.dropped += 1
                return
            case .refused(let error):
                if buffer.withUnsafeReadableBytes({ (try? RTCPCompound(parsing: $0)) != nil }) {
                    leg.inbound.plainRTCPOnSecureLeg += 1
                } else {
                    count(error, in: leg)
                }
                return
            }
        }
        guard let compound = buffer.withUnsafeReadableBytes({ try? RTCPCompound(parsing: $0) }) else {
            leg.inbound.malformed += 1
            return
        }
        if fromPeer {
            leg.rtcpLatch = .locked
        } else {
            if parameters.rtcpMux { learn(rtp: source, on: leg) } else { leg.remoteRTCP = source }
            leg.rtcpLatch = .locked
        }
        leg.inbound.rtcpPackets += 1
        leg.lastPacket = now
        leg.timedOut = false
        observeReports(in: compound, on: leg)

        guard parameters.direction != .inactive else { return }
        for target in legs where target !== leg {
            guard let targetParameters = target.negotiated else { continue }
            let remote = targetParameters.rtcpMux ? target.remoteRTP : target.remoteRTCP
            let channel = targetParameters.rtcpMux ? target.rtpChannel : target.rtcpChannel
            guard let remote, let channel else { continue }
            if legs.count > 2 {
                var copy = buffer
                send(&copy, to: target, remote: remote, over: channel, rtcp: true)
            } else {
                send(&buffer, to: target, remote: remote, over: channel, rtcp: true)
            }
        }
    }

    /// What the peer reports in RTCP about the stream the relay sends it.
    private func observeReports(in compound: RTCPCompound, on leg: RelayLeg) {
        for packet in compound.packets {
            let blocks: [RTCPReportBlock]
            switch packet {
            case .senderReport(let report): blocks = report.reports
            case .receiverReport(let report): blocks = report.reports
            default: continue
            }
            guard let block = blocks.first(where: { $0.ssrc == leg.sentSSRC }) ?? (leg.sentSSRC == nil ? blocks.first : nil) else {
                continue
            }
            leg.outbound.peerReportedFractionLost = Double(block.fractionLost) / 256
            leg.outbound.peerReportedCumulativeLost = block.cumulativeLost
            let clockRate = leg.jitterClockRate > 0 ? leg.jitterClockRate : 8_000
            leg.outbound.peerReportedJitterMilliseconds = Double(block.jitter) * 1_000 / Double(clockRate)
        }
    }

    // MARK: Sending

    /// Protects the packet for `target` when its leg is encrypted (a secure leg never gets clear
    /// RTP), then queues it; `flush()` sends the batch.
    private func send(_ buffer: inout ByteBuffer, to target: RelayLeg, remote: SocketAddress, over channel: any Channel, rtcp: Bool) {
        if target.isEncrypted, !Self.protect(&buffer, with: target.outboundSRTP, rtcp: rtcp) {
            target.outbound.failures += 1
            return
        }
        if rtcp { target.outbound.rtcpPackets += 1 } else { target.outbound.packets += 1 }
        target.outbound.bytes += UInt64(buffer.readableBytes)
        channel.write(AddressedEnvelope(remoteAddress: remote, data: buffer), promise: nil)
        target.needsFlush = true
    }

    enum Unprotected {
        case authenticated
        /// The leg's peer has not given its key yet.
        case noPeerKey
        case refused(SRTPError)
    }

    /// Authenticates and decrypts the packet in place; nothing in `buffer` may be used unless it
    /// comes back authenticated.
    static func unprotect(_ buffer: inout ByteBuffer, with session: SRTPSession?, rtcp: Bool) -> Unprotected {
        guard let session else { return .noPeerKey }
        let received = buffer.readableBytes
        do {
            let length = try buffer.withVeryUnsafeMutableBytes { (raw) throws(SRTPError) in
                rtcp ? try session.unprotectRTCP(in: raw, length: received) : try session.unprotectRTP(in: raw, length: received)
            }
            buffer.moveWriterIndex(to: length)
            return .authenticated
        } catch {
            return .refused(error)
        }
    }

    /// Encrypts and authenticates the packet in place; false when there is no session or libsrtp refused.
    static func protect(_ buffer: inout ByteBuffer, with session: SRTPSession?, rtcp: Bool) -> Bool {
        guard let session else { return false }
        let length = buffer.readableBytes
        do {
            let protected = try buffer.withVeryUnsafeMutableBytes { (raw) throws(SRTPError) in
                rtcp ? try session.protectRTCP(in: raw, length: length) : try session.protectRTP(in: raw, length: length)
            }
            buffer.moveWriterIndex(to: protected)
            return true
        } catch {
            return false
        }
    }

    func flush() {
        for leg in legs where leg.needsFlush {
            leg.needsFlush = false
            leg.rtpChannel?.flush()
            leg.rtcpChannel?.flush()
        }
    }

    func socketError(leg index: Int) {
        socketErrors += 1
    }

    // MARK: Latching and counting

    private func learn(rtp source: SocketAddress, on leg: RelayLeg) {
        leg.remoteRTP = source
        leg.latched = true
        leg.rtpLatch = .locked
        if leg.negotiated?.rtcpMux == true { leg.rtcpLatch = .locked }
        events(.latched(callID: callID, leg: leg.index, source: source))
    }

    private func count(_ error: SRTPError, in leg: RelayLeg) {
        switch error {
        case .replayed, .replayTooOld: leg.inbound.replays += 1
        case .packetTooShort, .packetTooLarge, .parseError: leg.inbound.malformed += 1
        default: leg.inbound.authenticationFailures += 1
        }
    }

    private func observe(_ event: TelephoneEvent, header: Header, on leg: RelayLeg) {
        let clockRate = max(leg.clockRate(of: header.payloadType), 1)
        let notice = MediaTelephoneEvent(
            event: event.event, ended: event.isEnd, durationMilliseconds: Int(event.duration) * 1_000 / clockRate, volume: event.volume)
        if let current = leg.currentEvent, current.ssrc == header.ssrc, current.timestamp == header.timestamp {
            // Retransmissions of the end packet (RFC 4733 §2.5.1.4) are reported once.
            guard event.isEnd, !current.ended else { return }
            leg.currentEvent?.ended = true
            events(.telephoneEvent(callID: callID, leg: leg.index, notice))
            return
        }
        leg.currentEvent = (header.ssrc, header.timestamp, event.isEnd)
        leg.inbound.telephoneEvents += 1
        events(.telephoneEvent(callID: callID, leg: leg.index, notice))
    }
}
