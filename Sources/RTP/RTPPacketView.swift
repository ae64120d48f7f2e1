/// A validated view over one RTP packet (RFC 3550 §5.1) in a buffer the caller owns.
///
/// Built once per received packet on the media path, so it allocates nothing and keeps only the
/// buffer and two offsets; every accessor reads the bytes. The view does not own the memory and
/// must not outlive it.
public struct RTPPacketView {
    /// The whole packet, as validated.
    public let bytes: UnsafeRawBufferPointer
    /// 12 + 4·CC, plus the extension's 4-byte header and data when X is set.
    public let headerLength: Int
    /// Where the payload ends: the end of the packet, less the padding when P is set.
    @usableFromInline let payloadEnd: Int

    public static let fixedHeaderLength = 12

    /// Checks everything the accessors rely on, so that none of them can read out of bounds:
    /// version 2, the CSRC list and the extension inside the packet, and a padding count of at
    /// least 1 (it counts itself) that does not reach into the header.
    public init(validating bytes: UnsafeRawBufferPointer) throws(RTPParseError) {
        let length = bytes.count
        guard length >= Self.fixedHeaderLength else {
            throw .tooShort(length: length, minimum: Self.fixedHeaderLength)
        }
        let first = bytes[0]
        guard first >> 6 == 2 else { throw .badVersion(first >> 6) }
        let csrcCount = Int(first & 0x0F)
        var header = Self.fixedHeaderLength + 4 * csrcCount
        guard header <= length else { throw .csrcOverrun(csrcCount: csrcCount, length: length) }
        if first & 0x10 != 0 {
            guard header + 4 <= length else { throw .extensionOverrun(needed: header + 4, length: length) }
            let words = Int(bytes.uint16(at: header + 2))
            header += 4 + 4 * words
            guard header <= length else { throw .extensionOverrun(needed: header, length: length) }
        }
        var end = length
        if first & 0x20 != 0 {
            let count = bytes[length - 1]
            guard count >= 1, Int(count) <= length - header else {
                throw .badPadding(count: count, available: length - header)
            }
            end -= Int(count)
        }
        self.bytes = bytes
        self.headerLength = header
        self.payloadEnd = end
    }

    public var version: UInt8 { bytes[0] >> 6 }
    public var hasPadding: Bool { bytes[0] & 0x20 != 0 }
    public var hasExtension: Bool { bytes[0] & 0x10 != 0 }
    public var csrcCount: Int { Int(bytes[0] & 0x0F) }
    public var marker: Bool { bytes[1] & 0x80 != 0 }
    public var payloadType: UInt8 { bytes[1] & 0x7F }
    public var sequenceNumber: UInt16 { bytes.uint16(at: 2) }
    public var timestamp: UInt32 { bytes.uint32(at: 4) }
    public var ssrc: UInt32 { bytes.uint32(at: 8) }

    /// Offsets of the payload in `bytes`, padding excluded.
    public var payloadRange: Range<Int> { headerLength..<payloadEnd }

    /// The payload itself, for a codec or SRTP step that works in place.
    public var payload: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: bytes[payloadRange]) }

    /// The padding count from the last byte, 0 when P is clear.
    public var paddingLength: Int { bytes.count - payloadEnd }

    /// The CSRC at `index`, which must be below `csrcCount`.
    public func csrc(at index: Int) -> UInt32 {
        precondition(index >= 0 && index < csrcCount, "CSRC index \(index) out of 0..<\(csrcCount)")
        return bytes.uint32(at: Self.fixedHeaderLength + 4 * index)
    }

    /// The 16-bit profile field of the header extension, nil without one.
    public var extensionProfile: UInt16? {
        hasExtension ? bytes.uint16(at: Self.fixedHeaderLength + 4 * csrcCount) : nil
    }

    /// Offsets of the header extension's data (after its 4-byte header), nil without one.
    public var extensionDataRange: Range<Int>? {
        hasExtension ? (Self.fixedHeaderLength + 4 * csrcCount + 4)..<headerLength : nil
    }

    // Relays rewrite a few header fields of a packet they have already validated, in the buffer
    // they will send. The only check is the fixed header's length: a shorter buffer is a caller bug.

    /// Replaces the payload type and keeps the marker bit.
    public static func setPayloadType(_ pt: UInt8, in bytes: UnsafeMutableRawBufferPointer) {
        precondition(bytes.count >= fixedHeaderLength, "not an RTP header")
        bytes[1] = (bytes[1] & 0x80) | (pt & 0x7F)
    }

    public static func setMarker(_ marker: Bool, in bytes: UnsafeMutableRawBufferPointer) {
        precondition(bytes.count >= fixedHeaderLength, "not an RTP header")
        bytes[1] = marker ? bytes[1] | 0x80 : bytes[1] & 0x7F
    }

    public static func setSSRC(_ ssrc: UInt32, in bytes: UnsafeMutableRawBufferPointer) {
        precondition(bytes.count >= fixedHeaderLength, "not an RTP header")
        bytes.store(ssrc, at: 8)
    }

    public static func setSequenceNumber(_ n: UInt16, in bytes: UnsafeMutableRawBufferPointer) {
        precondition(bytes.count >= fixedHeaderLength, "not an RTP header")
        bytes.store(n, at: 2)
    }

    public static func setTimestamp(_ t: UInt32, in bytes: UnsafeMutableRawBufferPointer) {
        precondition(bytes.count >= fixedHeaderLength, "not an RTP header")
        bytes.store(t, at: 4)
    }
}
