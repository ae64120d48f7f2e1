/// One reception report block of an SR or RR (RFC 3550 §6.4.1): 24 bytes about one source.
public struct RTCPReportBlock: Equatable, Sendable {
    public var ssrc: UInt32
    /// Lost / expected since the last report, as a fixed-point fraction of 256.
    public var fractionLost: UInt8
    /// 24-bit signed on the wire; serialization clamps to −8388608...8388607 (RFC 3550 §6.4.1
    /// lets it go negative when duplicates arrive).
    public var cumulativeLost: Int32
    public var extendedHighestSequence: UInt32
    public var jitter: UInt32
    /// The middle 32 bits of the NTP timestamp of the last SR from this source, 0 if none.
    public var lastSenderReport: UInt32
    /// In units of 1/65536 s.
    public var delaySinceLastSenderReport: UInt32

    public static let encodedLength = 24
    public static let cumulativeLostRange: ClosedRange<Int32> = -0x80_0000...0x7F_FFFF

    public init(
        ssrc: UInt32, fractionLost: UInt8 = 0, cumulativeLost: Int32 = 0, extendedHighestSequence: UInt32 = 0,
        jitter: UInt32 = 0, lastSenderReport: UInt32 = 0, delaySinceLastSenderReport: UInt32 = 0
    ) {
        self.ssrc = ssrc
        self.fractionLost = fractionLost
        self.cumulativeLost = cumulativeLost
        self.extendedHighestSequence = extendedHighestSequence
        self.jitter = jitter
        self.lastSenderReport = lastSenderReport
        self.delaySinceLastSenderReport = delaySinceLastSenderReport
    }

    init(_ body: UnsafeRawBufferPointer, at offset: Int) {
        let lossWord = body.uint32(at: offset + 4)
        // Shifting the 24-bit field to the top and back sign-extends it.
        let cumulative = Int32(bitPattern: lossWord << 8) >> 8
        self.init(
            ssrc: body.uint32(at: offset), fractionLost: UInt8(lossWord >> 24), cumulativeLost: cumulative,
            extendedHighestSequence: body.uint32(at: offset + 8), jitter: body.uint32(at: offset + 12),
            lastSenderReport: body.uint32(at: offset + 16), delaySinceLastSenderReport: body.uint32(at: offset + 20))
    }

    func append(to out: inout [UInt8]) {
        let lost = min(max(cumulativeLost, Self.cumulativeLostRange.lowerBound), Self.cumulativeLostRange.upperBound)
        out.appendBigEndian(ssrc)
        out.appendBigEndian(UInt32(fractionLost) << 24 | UInt32(bitPattern: lost) & 0x00FF_FFFF)
        out.appendBigEndian(extendedHighestSequence)
        out.appendBigEndian(jitter)
        out.appendBigEndian(lastSenderReport)
        out.appendBigEndian(delaySinceLastSenderReport)
    }
}

/// SR, packet type 200 (RFC 3550 §6.4.1).
public struct RTCPSenderReport: Equatable, Sendable {
    public var ssrc: UInt32
    /// 64-bit NTP format: seconds since 1900 in the high word, the fraction in the low word.
    public var ntpTimestamp: UInt64
    public var rtpTimestamp: UInt32
    public var packetCount: UInt32
    public var octetCount: UInt32
    /// At most 31 fit in one packet (the 5-bit count); serialization writes the first 31.
    public var reports: [RTCPReportBlock]
    /// Profile-specific extension after the report blocks; padded with zeros to 32 bits when serialized.
    public var profileExtension: [UInt8]

    public init(
        ssrc: UInt32, ntpTimestamp: UInt64, rtpTimestamp: UInt32, packetCount: UInt32, octetCount: UInt32,
        reports: [RTCPReportBlock] = [], profileExtension: [UInt8] = []
    ) {
        self.ssrc = ssrc
        self.ntpTimestamp = ntpTimestamp
        self.rtpTimestamp = rtpTimestamp
        self.packetCount = packetCount
        self.octetCount = octetCount
        self.reports = reports
        self.profileExtension = profileExtension
    }

    /// What a receiver puts in its report block's LSR field for this SR (RFC 3550 §6.4.1).
    public var compactNTPTimestamp: UInt32 { UInt32(truncatingIfNeeded: ntpTimestamp >> 16) }
}

/// RR, packet type 201 (RFC 3550 §6.4.2).
public struct RTCPReceiverReport: Equatable, Sendable {
    public var ssrc: UInt32
    /// At most 31 fit in one packet; serialization writes the first 31.
    public var reports: [RTCPReportBlock]
    public var profileExtension: [UInt8]

    public init(ssrc: UInt32, reports: [RTCPReportBlock] = [], profileExtension: [UInt8] = []) {
        self.ssrc = ssrc
        self.reports = reports
        self.profileExtension = profileExtension
    }
}
