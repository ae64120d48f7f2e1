/// An RTP fixed header with its CSRC list and header extension (RFC 3550 §5.1, §5.3.1), as a value
/// to build, compare and serialize. The media path reads packets through `RTPPacketView` instead.
public struct RTPHeader: Equatable, Sendable {
    public var version: UInt8
    /// The P bit. `RTPPacket` derives it from its padding length when serializing.
    public var padding: Bool
    public var marker: Bool
    public var payloadType: UInt8
    public var sequenceNumber: UInt16
    public var timestamp: UInt32
    public var ssrc: UInt32
    /// At most 15 fit; RFC 3550 §5.1: "If there are more than 15 contributing sources, only 15 can
    /// be identified", so serialization writes the first 15.
    public var csrcs: [UInt32]
    public var `extension`: RTPHeaderExtension?

    public static let maximumCSRCCount = 15

    public init(
        version: UInt8 = 2, padding: Bool = false, marker: Bool = false, payloadType: UInt8,
        sequenceNumber: UInt16, timestamp: UInt32, ssrc: UInt32, csrcs: [UInt32] = [],
        extension: RTPHeaderExtension? = nil
    ) {
        self.version = version
        self.padding = padding
        self.marker = marker
        self.payloadType = payloadType
        self.sequenceNumber = sequenceNumber
        self.timestamp = timestamp
        self.ssrc = ssrc
        self.csrcs = csrcs
        self.extension = `extension`
    }

    /// The header of a whole packet; the packet is validated as a whole (padding too), so a header
    /// parsed here always belongs to a packet `RTPPacketView` accepts.
    public init(parsing bytes: [UInt8]) throws(RTPParseError) {
        self = try bytes.withUnsafeBufferPointer { (buffer) throws(RTPParseError) -> RTPHeader in
            try RTPHeader(RTPPacketView(validating: UnsafeRawBufferPointer(buffer)))
        }
    }

    /// Copies the header out of a validated view.
    public init(_ view: RTPPacketView) {
        var csrcs: [UInt32] = []
        csrcs.reserveCapacity(view.csrcCount)
        for index in 0..<view.csrcCount { csrcs.append(view.csrc(at: index)) }
        var ext: RTPHeaderExtension?
        if let profile = view.extensionProfile, let range = view.extensionDataRange {
            ext = RTPHeaderExtension(profile: profile, data: Array(view.bytes[range]))
        }
        self.init(
            version: view.version, padding: view.hasPadding, marker: view.marker, payloadType: view.payloadType,
            sequenceNumber: view.sequenceNumber, timestamp: view.timestamp, ssrc: view.ssrc, csrcs: csrcs,
            extension: ext)
    }

    /// The header's bytes: 12 + 4·CC, plus the extension when there is one.
    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(encodedLength)
        append(to: &out, padding: padding)
        return out
    }

    /// What `serialized()` produces, in bytes.
    public var encodedLength: Int {
        RTPPacketView.fixedHeaderLength + 4 * min(csrcs.count, Self.maximumCSRCCount)
            + (`extension`.map { 4 + $0.paddedDataLength } ?? 0)
    }

    func append(to out: inout [UInt8], padding: Bool) {
        let csrcs = self.csrcs.prefix(Self.maximumCSRCCount)
        var first = (version & 0x03) << 6 | UInt8(csrcs.count)
        if padding { first |= 0x20 }
        if `extension` != nil { first |= 0x10 }
        out.append(first)
        out.append((marker ? 0x80 : 0) | (payloadType & 0x7F))
        out.appendBigEndian(sequenceNumber)
        out.appendBigEndian(timestamp)
        out.appendBigEndian(ssrc)
        for csrc in csrcs { out.appendBigEndian(csrc) }
        `extension`?.append(to: &out)
    }
}

/// A whole RTP packet as values: header, payload, and how many padding bytes followed it.
public struct RTPPacket: Equatable, Sendable {
    public var header: RTPHeader
    public var payload: [UInt8]
    /// 0 for none; otherwise the count in the last byte, which includes that byte. The padding's
    /// contents are not kept: serialization writes zeros and the count (RFC 3550 §5.1).
    public var paddingLength: UInt8

    public init(header: RTPHeader, payload: [UInt8], paddingLength: UInt8 = 0) {
        self.header = header
        self.payload = payload
        self.paddingLength = paddingLength
    }

    public init(parsing bytes: [UInt8]) throws(RTPParseError) {
        self = try bytes.withUnsafeBufferPointer { (buffer) throws(RTPParseError) -> RTPPacket in
            try RTPPacket(RTPPacketView(validating: UnsafeRawBufferPointer(buffer)))
        }
    }

    public init(_ view: RTPPacketView) {
        self.init(
            header: RTPHeader(view), payload: Array(view.payload), paddingLength: UInt8(view.paddingLength))
    }

    /// The P bit follows `paddingLength`, whatever `header.padding` says: a set P bit with nothing
    /// to count would not parse back.
    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(header.encodedLength + payload.count + Int(paddingLength))
        header.append(to: &out, padding: paddingLength > 0)
        out.append(contentsOf: payload)
        if paddingLength > 0 {
            out.append(contentsOf: repeatElement(0, count: Int(paddingLength) - 1))
            out.append(paddingLength)
        }
        return out
    }
}
