/// Why bytes are not a valid RTP packet, RTCP compound, header extension or telephone event.
///
/// Offsets and lengths are in bytes; `index` is the position of an RTCP packet within its
/// compound, counted from 0, so a report can name the packet that broke.
public enum RTPParseError: Error, Sendable, Hashable {
    /// Fewer bytes than the fixed part needs (RTP header 12, RTCP header 4, telephone event 4).
    case tooShort(length: Int, minimum: Int)
    /// The version field is not 2 (RFC 3550 §5.1, §6.4.1).
    case badVersion(UInt8)
    /// The CC field announces more CSRC identifiers than the packet holds.
    case csrcOverrun(csrcCount: Int, length: Int)
    /// The header extension (its 4-byte header, or the words its length announces) runs past the end.
    case extensionOverrun(needed: Int, length: Int)
    /// The P bit is set but the count in the last byte is 0 or more than the bytes after the header.
    case badPadding(count: UInt8, available: Int)

    /// An RTCP packet's length field announces more bytes than remain in the compound.
    case rtcpLengthMismatch(index: Int, declared: Int, available: Int)
    /// Bytes after the last RTCP packet that cannot hold another one (fewer than its 4-byte header).
    case rtcpTrailingBytes(count: Int)
    /// A compound with no packet at all.
    case rtcpEmpty
    /// An RTCP packet whose version field is not 2.
    case rtcpBadVersion(index: Int, version: UInt8)
    /// The P bit on a packet that is not the last of its compound (RFC 3550 §6.4.1 allows it only there).
    case rtcpPaddingNotLast(index: Int)
    /// The padding count of the last RTCP packet is 0, not a multiple of 4, or longer than the packet body.
    case rtcpBadPadding(index: Int, count: UInt8)
    /// An RTCP packet's body is too short for what its type and count field announce.
    case rtcpTruncated(index: Int, packetType: UInt8, needed: Int, available: Int)
    /// An SDES item, or the chunk's terminating null bytes, runs past the end of the packet.
    case sdesItemOverrun(index: Int, chunk: Int)
    /// Bytes left in an SDES or BYE packet after everything its count field announces.
    case rtcpTrailingBody(index: Int, count: Int)

    /// `elements()` on an extension whose profile is neither RFC 8285 one-byte (0xBEDE) nor two-byte (0x100x).
    case notElementExtension(profile: UInt16)
    /// An RFC 8285 element whose length runs past the end of the extension data.
    case extensionElementOverrun(offset: Int)

    /// A telephone-event payload that is not a whole, non-zero number of 4-byte events (RFC 4733 §2.3).
    case telephoneEventLength(Int)
}

extension RTPParseError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .tooShort(let length, let minimum): "too short: \(length) bytes, at least \(minimum) needed"
        case .badVersion(let version): "version \(version), only 2 is RTP"
        case .csrcOverrun(let count, let length): "\(count) CSRC identifiers do not fit in \(length) bytes"
        case .extensionOverrun(let needed, let length):
            "the header extension needs \(needed) bytes, the packet has \(length)"
        case .badPadding(let count, let available):
            count == 0
                ? "padding count is 0 (it counts itself, so at least 1)"
                : "padding count \(count) exceeds the \(available) bytes after the header"
        case .rtcpLengthMismatch(let index, let declared, let available):
            "RTCP packet \(index) declares \(declared) bytes, \(available) remain"
        case .rtcpTrailingBytes(let count): "\(count) bytes after the last RTCP packet"
        case .rtcpEmpty: "empty RTCP compound"
        case .rtcpBadVersion(let index, let version): "RTCP packet \(index) has version \(version), only 2 exists"
        case .rtcpPaddingNotLast(let index): "RTCP packet \(index) is padded but is not the last of the compound"
        case .rtcpBadPadding(let index, let count):
            "RTCP packet \(index) has padding count \(count) (must be a non-zero multiple of 4 within the packet)"
        case .rtcpTruncated(let index, let type, let needed, let available):
            "RTCP packet \(index) (type \(type)) needs \(needed) body bytes, has \(available)"
        case .sdesItemOverrun(let index, let chunk): "SDES packet \(index): chunk \(chunk) runs past the end"
        case .rtcpTrailingBody(let index, let count): "RTCP packet \(index) has \(count) bytes after its last item"
        case .notElementExtension(let profile):
            "header extension profile 0x\(String(profile, radix: 16)) is not an RFC 8285 one- or two-byte header"
        case .extensionElementOverrun(let offset): "header extension element at offset \(offset) runs past the end"
        case .telephoneEventLength(let length):
            "telephone-event payload of \(length) bytes is not a whole number of 4-byte events"
        }
    }
}
