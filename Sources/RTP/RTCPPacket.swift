/// One packet of an RTCP compound (RFC 3550 §6.4–§6.7). Types this module does not model — the
/// feedback messages RTPFB 205 and PSFB 206 (RFC 4585), XR 207 (RFC 3611) and anything newer —
/// are kept whole as `.other`, so a relay can pass them on unchanged.
public enum RTCPPacket: Equatable, Sendable {
    case senderReport(RTCPSenderReport)
    case receiverReport(RTCPReceiverReport)
    case sourceDescription([RTCPSourceDescriptionChunk])
    case bye(RTCPBye)
    case application(RTCPApplication)
    /// The 5-bit count field and the body after the 4-byte header, padding excluded. A body that
    /// is not a multiple of 4 is padded with zeros when serialized.
    case other(packetType: UInt8, count: UInt8, body: [UInt8])

    public static let senderReportType: UInt8 = 200
    public static let receiverReportType: UInt8 = 201
    public static let sourceDescriptionType: UInt8 = 202
    public static let byeType: UInt8 = 203
    public static let applicationType: UInt8 = 204

    public var packetType: UInt8 {
        switch self {
        case .senderReport: Self.senderReportType
        case .receiverReport: Self.receiverReportType
        case .sourceDescription: Self.sourceDescriptionType
        case .bye: Self.byeType
        case .application: Self.applicationType
        case .other(let type, _, _): type
        }
    }

    /// Parses the body of one packet whose header the compound has already checked.
    static func parse(
        type: UInt8, count: Int, body: UnsafeRawBufferPointer, index: Int
    ) throws(RTPParseError) -> RTCPPacket {
        func need(_ needed: Int) throws(RTPParseError) {
            guard needed <= body.count else {
                throw .rtcpTruncated(index: index, packetType: type, needed: needed, available: body.count)
            }
        }
        func reports(from start: Int) -> [RTCPReportBlock] {
            var blocks: [RTCPReportBlock] = []
            blocks.reserveCapacity(count)
            for i in 0..<count { blocks.append(RTCPReportBlock(body, at: start + RTCPReportBlock.encodedLength * i)) }
            return blocks
        }
        switch type {
        case senderReportType:
            let end = 24 + RTCPReportBlock.encodedLength * count
            try need(end)
            return .senderReport(
                RTCPSenderReport(
                    ssrc: body.uint32(at: 0),
                    ntpTimestamp: UInt64(body.uint32(at: 4)) << 32 | UInt64(body.uint32(at: 8)),
                    rtpTimestamp: body.uint32(at: 12), packetCount: body.uint32(at: 16),
                    octetCount: body.uint32(at: 20), reports: reports(from: 24), profileExtension: Array(body[end...])))
        case receiverReportType:
            let end = 4 + RTCPReportBlock.encodedLength * count
            try need(end)
            return .receiverReport(
                RTCPReceiverReport(
                    ssrc: body.uint32(at: 0), reports: reports(from: 4), profileExtension: Array(body[end...])))
        case sourceDescriptionType:
            return .sourceDescription(try RTCPSourceDescriptionChunk.parse(body, count: count, index: index))
        case byeType:
            return .bye(try RTCPBye.parse(body, count: count, index: index))
        case applicationType:
            try need(8)
            return .application(
                RTCPApplication(
                    subtype: UInt8(count), ssrc: body.uint32(at: 0), name: body.uint32(at: 4), data: Array(body[8...])))
        default:
            return .other(packetType: type, count: UInt8(count), body: Array(body))
        }
    }

    /// Appends the packet with its header; never padded (padding is the compound's business and
    /// is not kept).
    func append(to out: inout [UInt8]) {
        let start = out.count
        let count: Int
        out.append(contentsOf: [0, packetType, 0, 0])
        switch self {
        case .senderReport(let sr):
            let reports = sr.reports.prefix(31)
            count = reports.count
            out.appendBigEndian(sr.ssrc)
            out.appendBigEndian(sr.ntpTimestamp)
            out.appendBigEndian(sr.rtpTimestamp)
            out.appendBigEndian(sr.packetCount)
            out.appendBigEndian(sr.octetCount)
            for block in reports { block.append(to: &out) }
            out.append(contentsOf: sr.profileExtension)
        case .receiverReport(let rr):
            let reports = rr.reports.prefix(31)
            count = reports.count
            out.appendBigEndian(rr.ssrc)
            for block in reports { block.append(to: &out) }
            out.append(contentsOf: rr.profileExtension)
        case .sourceDescription(let chunks):
            let written = chunks.prefix(31)
            count = written.count
            for chunk in written { chunk.append(to: &out) }
        case .bye(let bye):
            count = min(bye.ssrcs.count, 31)
            bye.append(to: &out)
        case .application(let app):
            count = Int(app.subtype & 0x1F)
            out.appendBigEndian(app.ssrc)
            out.appendBigEndian(app.name)
            out.append(contentsOf: app.data)
        case .other(_, let rawCount, let body):
            count = Int(rawCount & 0x1F)
            out.append(contentsOf: body)
        }
        out.padToWord()
        // A body past 2^18 bytes cannot be described by the 16-bit length; cut it rather than lie.
        let maximum = 4 * (Int(UInt16.max) + 1)
        if out.count - start > maximum { out.removeLast(out.count - start - maximum) }
        out[start] = 0x80 | UInt8(count)
        let words = UInt16((out.count - start) / 4 - 1)
        out[start + 2] = UInt8(words >> 8)
        out[start + 3] = UInt8(words & 0xFF)
    }
}
