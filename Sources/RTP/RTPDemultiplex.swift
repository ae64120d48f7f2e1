/// Tells apart the protocols that share one media port: STUN, ZRTP, DTLS, TURN channel data, RTP
/// and RTCP (RFC 7983 §7 by the first byte, then RFC 5761 §4 by the second). Looks at two to eight
/// bytes and allocates nothing, so it can run before any parser.
public enum RTPDemultiplex {
    public enum Kind: Sendable, Hashable {
        case stun, zrtp, dtls, turnChannel, rtp, rtcp, unknown
    }

    public static let stunMagicCookie: UInt32 = 0x2112_A442

    /// The first byte's range per RFC 7983, and for 128–191 the second byte per RFC 5761.
    public static func classify(_ bytes: UnsafeRawBufferPointer) -> Kind {
        guard let first = bytes.first else { return .unknown }
        switch first {
        case 0...3: return isSTUN(bytes) ? .stun : .unknown
        case 16...19: return .zrtp
        case 20...63: return .dtls
        case 64...79: return .turnChannel
        case 128...191:
            guard bytes.count >= 2 else { return .unknown }
            return isRTCP(bytes) ? .rtcp : .rtp
        default: return .unknown
        }
    }

    /// RFC 5761 §4: a version-2 packet whose second byte is 192–223 is RTCP (packet types 192–223),
    /// because RTP payload types 64–95 with the marker set would collide and must not be used when
    /// RTP and RTCP share a port. The version check keeps STUN or DTLS with such a second byte out.
    public static func isRTCP(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count >= 2, bytes[0] >> 6 == 2 else { return false }
        return (192...223).contains(bytes[1])
    }

    /// RFC 5389 §6 / RFC 7983: first byte 0–3 (the two top bits of a STUN message are 0) and the
    /// magic cookie at offset 4. Needs the 20-byte STUN header, as nothing shorter is STUN.
    public static func isSTUN(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count >= 20, bytes[0] <= 3 else { return false }
        return bytes.uint32(at: 4) == stunMagicCookie
    }
}
