/// BYE, packet type 203 (RFC 3550 §6.6): the sources leaving, and why.
public struct RTCPBye: Equatable, Sendable {
    /// At most 31 fit in one packet; serialization writes the first 31.
    public var ssrcs: [UInt32]
    /// Bytes rather than a String so that a reason that is not UTF-8 survives a round trip; at
    /// most 255 are written. An empty reason is distinct from none: it takes a length byte.
    public var reason: [UInt8]?

    public init(ssrcs: [UInt32], reason: [UInt8]? = nil) {
        self.ssrcs = ssrcs
        self.reason = reason
    }

    public init(ssrcs: [UInt32], reasonText: String) {
        self.init(ssrcs: ssrcs, reason: Array(reasonText.utf8))
    }

    public var reasonText: String? { reason.map { String(decoding: $0, as: UTF8.self) } }

    static func parse(_ body: UnsafeRawBufferPointer, count: Int, index: Int) throws(RTPParseError) -> RTCPBye {
        let needed = 4 * count
        guard needed <= body.count else {
            throw .rtcpTruncated(index: index, packetType: RTCPPacket.byeType, needed: needed, available: body.count)
        }
        var ssrcs: [UInt32] = []
        ssrcs.reserveCapacity(count)
        for i in 0..<count { ssrcs.append(body.uint32(at: 4 * i)) }
        guard needed < body.count else { return RTCPBye(ssrcs: ssrcs) }
        let length = Int(body[needed])
        let end = needed + 1 + length
        guard end <= body.count else {
            throw .rtcpTruncated(index: index, packetType: RTCPPacket.byeType, needed: end, available: body.count)
        }
        let padded = (end + 3) / 4 * 4
        guard padded == body.count else { throw .rtcpTrailingBody(index: index, count: body.count - padded) }
        return RTCPBye(ssrcs: ssrcs, reason: Array(body[(needed + 1)..<end]))
    }

    func append(to out: inout [UInt8]) {
        for ssrc in ssrcs.prefix(31) { out.appendBigEndian(ssrc) }
        if let reason {
            let text = reason.prefix(255)
            out.append(UInt8(text.count))
            out.append(contentsOf: text)
            out.padToWord()
        }
    }
}

/// APP, packet type 204 (RFC 3550 §6.7).
public struct RTCPApplication: Equatable, Sendable {
    /// 5 bits, in the count field.
    public var subtype: UInt8
    public var ssrc: UInt32
    /// Four ASCII characters, kept as the 32-bit word they are on the wire.
    public var name: UInt32
    /// Padded with zeros to 32 bits when serialized.
    public var data: [UInt8]

    public init(subtype: UInt8, ssrc: UInt32, name: UInt32, data: [UInt8] = []) {
        self.subtype = subtype
        self.ssrc = ssrc
        self.name = name
        self.data = data
    }

    /// `name` from its four characters; nil unless it is exactly four ASCII characters.
    public init?(subtype: UInt8, ssrc: UInt32, name: String, data: [UInt8] = []) {
        let bytes = Array(name.utf8)
        guard bytes.count == 4, bytes.allSatisfy({ $0 < 0x80 }) else { return nil }
        self.init(subtype: subtype, ssrc: ssrc, name: bytes.uint32(at: 0), data: data)
    }

    public var nameText: String {
        String(decoding: [UInt8(name >> 24), UInt8(name >> 16 & 0xFF), UInt8(name >> 8 & 0xFF), UInt8(name & 0xFF)], as: UTF8.self)
    }
}
