/// An RTCP compound packet (RFC 3550 §6.1): one or more RTCP packets back to back in one datagram.
public struct RTCPCompound: Equatable, Sendable {
    public var packets: [RTCPPacket]

    public init(packets: [RTCPPacket]) {
        self.packets = packets
    }

    public init(parsing bytes: [UInt8]) throws(RTPParseError) {
        self = try bytes.withUnsafeBufferPointer { (buffer) throws(RTPParseError) -> RTCPCompound in
            try RTCPCompound(parsing: UnsafeRawBufferPointer(buffer))
        }
    }

    /// Walks the packets by their length fields, which must add up to the datagram exactly.
    /// Only the last packet may be padded (RFC 3550 §6.4.1), and its padding count is a non-zero
    /// multiple of 4 within the packet.
    public init(parsing bytes: UnsafeRawBufferPointer) throws(RTPParseError) {
        guard !bytes.isEmpty else { throw .rtcpEmpty }
        var packets: [RTCPPacket] = []
        var offset = 0
        while offset < bytes.count {
            let index = packets.count
            let available = bytes.count - offset
            guard available >= 4 else {
                if index == 0 { throw .tooShort(length: available, minimum: 4) }
                throw .rtcpTrailingBytes(count: available)
            }
            let first = bytes[offset]
            guard first >> 6 == 2 else { throw .rtcpBadVersion(index: index, version: first >> 6) }
            let size = 4 * (Int(bytes.uint16(at: offset + 2)) + 1)
            guard size <= available else { throw .rtcpLengthMismatch(index: index, declared: size, available: available) }
            var bodyEnd = offset + size
            if first & 0x20 != 0 {
                guard bodyEnd == bytes.count else { throw .rtcpPaddingNotLast(index: index) }
                let count = bytes[bodyEnd - 1]
                guard count > 0, count % 4 == 0, Int(count) <= size - 4 else {
                    throw .rtcpBadPadding(index: index, count: count)
                }
                bodyEnd -= Int(count)
            }
            let body = UnsafeRawBufferPointer(rebasing: bytes[(offset + 4)..<bodyEnd])
            packets.append(try RTCPPacket.parse(type: bytes[offset + 1], count: Int(first & 0x1F), body: body, index: index))
            offset += size
        }
        self.packets = packets
    }

    /// RFC 3550 §6.1 wants an SR or RR first; RFC 5506 reduced-size RTCP (often a lone feedback
    /// message) does without, and a receiver that supports it must not reject it.
    public var isReducedSize: Bool {
        switch packets.first {
        case .senderReport, .receiverReport: false
        default: true
        }
    }

    /// The packets back to back, unpadded.
    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        for packet in packets { packet.append(to: &out) }
        return out
    }

    /// The SSRC of the sender of a compound, from its first packet, without parsing or allocating:
    /// the word after the header of an SR, RR, APP, RTPFB, PSFB or XR, and the first chunk or
    /// source of an SDES or BYE that lists one. nil when the first packet's header is not valid.
    public static func firstSenderSSRC(in bytes: UnsafeRawBufferPointer) -> UInt32? {
        guard bytes.count >= 8, bytes[0] >> 6 == 2 else { return nil }
        let size = 4 * (Int(bytes.uint16(at: 2)) + 1)
        guard size >= 8, size <= bytes.count else { return nil }
        let type = bytes[1]
        if type == RTCPPacket.sourceDescriptionType || type == RTCPPacket.byeType, bytes[0] & 0x1F == 0 { return nil }
        return bytes.uint32(at: 4)
    }
}
