/// One SDES chunk (RFC 3550 §6.5): the items describing one source.
public struct RTCPSourceDescriptionChunk: Equatable, Sendable {
    public var ssrc: UInt32
    /// In wire order; the END item is implied and not listed.
    public var items: [RTCPSourceDescriptionItem]

    public init(ssrc: UInt32, items: [RTCPSourceDescriptionItem]) {
        self.ssrc = ssrc
        self.items = items
    }

    /// The first CNAME item's text, the one item RFC 3550 §6.5.1 requires in every compound.
    public var cname: String? {
        items.first { $0.type == .cname }.map { String(decoding: $0.value, as: UTF8.self) }
    }
}

/// One SDES item. The value is kept as bytes: RFC 3550 says UTF-8, but a stack that sends
/// something else must still round-trip unchanged.
public struct RTCPSourceDescriptionItem: Equatable, Sendable {
    public var type: ItemType
    /// At most 255 bytes fit; serialization writes the first 255.
    public var value: [UInt8]

    public init(type: ItemType, value: [UInt8]) {
        self.type = type
        self.value = value
    }

    public init(type: ItemType, text: String) {
        self.init(type: type, value: Array(text.utf8))
    }

    public var text: String { String(decoding: value, as: UTF8.self) }

    /// The item type byte; a struct rather than an enum so that types registered after RFC 3550
    /// survive a round trip.
    public struct ItemType: RawRepresentable, Hashable, Sendable {
        public var rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }

        /// Terminates a chunk's list; never appears in `items`, and items of this type are not written.
        public static let end = ItemType(rawValue: 0)
        public static let cname = ItemType(rawValue: 1)
        public static let name = ItemType(rawValue: 2)
        public static let email = ItemType(rawValue: 3)
        public static let phone = ItemType(rawValue: 4)
        public static let location = ItemType(rawValue: 5)
        public static let tool = ItemType(rawValue: 6)
        public static let note = ItemType(rawValue: 7)
        /// The value starts with a prefix length byte and the prefix (RFC 3550 §6.5.8).
        public static let priv = ItemType(rawValue: 8)
    }
}

extension RTCPSourceDescriptionChunk {
    static func parse(
        _ body: UnsafeRawBufferPointer, count: Int, index: Int
    ) throws(RTPParseError) -> [RTCPSourceDescriptionChunk] {
        var chunks: [RTCPSourceDescriptionChunk] = []
        chunks.reserveCapacity(count)
        var offset = 0
        for chunkIndex in 0..<count {
            guard offset + 4 <= body.count else { throw .sdesItemOverrun(index: index, chunk: chunkIndex) }
            let ssrc = body.uint32(at: offset)
            offset += 4
            var items: [RTCPSourceDescriptionItem] = []
            while true {
                guard offset < body.count else { throw .sdesItemOverrun(index: index, chunk: chunkIndex) }
                let type = body[offset]
                if type == 0 {
                    // The END byte, then nulls to the next 32-bit boundary; the body starts on one.
                    offset = (offset + 4) / 4 * 4
                    guard offset <= body.count else { throw .sdesItemOverrun(index: index, chunk: chunkIndex) }
                    break
                }
                guard offset + 2 <= body.count else { throw .sdesItemOverrun(index: index, chunk: chunkIndex) }
                let length = Int(body[offset + 1])
                guard offset + 2 + length <= body.count else { throw .sdesItemOverrun(index: index, chunk: chunkIndex) }
                items.append(
                    RTCPSourceDescriptionItem(
                        type: .init(rawValue: type), value: Array(body[(offset + 2)..<(offset + 2 + length)])))
                offset += 2 + length
            }
            chunks.append(RTCPSourceDescriptionChunk(ssrc: ssrc, items: items))
        }
        guard offset == body.count else { throw .rtcpTrailingBody(index: index, count: body.count - offset) }
        return chunks
    }

    func append(to out: inout [UInt8]) {
        out.appendBigEndian(ssrc)
        for item in items where item.type != .end {
            let value = item.value.prefix(255)
            out.append(item.type.rawValue)
            out.append(UInt8(value.count))
            out.append(contentsOf: value)
        }
        out.append(0)
        out.padToWord()
    }
}
