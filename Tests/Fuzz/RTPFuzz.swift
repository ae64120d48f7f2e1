// libFuzzer entry for the RTP target, compiled into the same module as Sources/RTP. The same bytes
// go to every parser: the packet view, RTPPacket, RTCPCompound and telephone events. Any trap is
// a finding; so is a value whose serialized form does not parse back to an equal value. Bytes
// need not match (padding is not kept), but the serialized form is canonical and must reproduce
// itself.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRTP(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let raw = UnsafeRawBufferPointer(start: data, count: size)
    let bytes = Array(raw)

    if let view = try? RTPPacketView(validating: raw) {
        guard view.payloadRange.lowerBound == view.headerLength, view.payloadRange.upperBound <= size else {
            fatalError("payload range outside the packet")
        }
        for index in 0..<view.csrcCount { _ = view.csrc(at: index) }
        _ = (view.marker, view.payloadType, view.sequenceNumber, view.timestamp, view.ssrc, view.extensionProfile)
        _ = try? TelephoneEvent.events(in: view.payload)
        guard let packet = try? RTPPacket(parsing: bytes) else { fatalError("the view validated, RTPPacket did not") }
        let wire = packet.serialized()
        guard let again = try? RTPPacket(parsing: wire) else { fatalError("a serialized RTP packet does not parse") }
        guard again == packet, again.serialized() == wire else { fatalError("RTP round trip is not stable") }
        guard (try? RTPHeader(parsing: bytes)) == packet.header else { fatalError("RTPHeader differs from RTPPacket's") }
        if let elements = try? packet.header.extension?.elements() {
            _ = elements.count
        }
    } else if (try? RTPPacket(parsing: bytes)) != nil {
        fatalError("RTPPacket accepted what the view refused")
    }

    if let compound = try? RTCPCompound(parsing: bytes) {
        let wire = compound.serialized()
        guard let again = try? RTCPCompound(parsing: wire) else { fatalError("a serialized RTCP compound does not parse") }
        guard again == compound, again.serialized() == wire else { fatalError("RTCP round trip is not stable") }
        guard RTCPCompound.firstSenderSSRC(in: raw) != nil || compound.packets.first.map(mayLackSender) == true
        else { fatalError("a parsed compound has no sender SSRC") }
        _ = compound.isReducedSize
    }

    if let events = try? TelephoneEvent.events(in: raw) {
        let wire = events.flatMap { $0.serialized() }
        guard (try? wire.withUnsafeBytes { try TelephoneEvent.events(in: $0) }) == events else {
            fatalError("telephone events do not round-trip")
        }
    }

    _ = RTPDemultiplex.classify(raw)
    return 0
}

/// Packets with no word after their header (an empty SDES or BYE, a bare unknown type).
private func mayLackSender(_ packet: RTCPPacket) -> Bool {
    switch packet {
    case .sourceDescription(let chunks): chunks.isEmpty
    case .bye(let bye): bye.ssrcs.isEmpty
    case .other(_, _, let body): body.count < 4
    default: false
    }
}
