import Foundation
import SRTP

/// The fixed 12-byte RTP header (RFC 3550 §5.1), built and read by hand: no CSRCs, no extension,
/// no padding. The harness stays independent of the product's RTP code on purpose.
public struct RTPHeader: Sendable, Hashable {
    public var marker: Bool
    public var payloadType: UInt8
    public var sequenceNumber: UInt16
    public var timestamp: UInt32
    public var ssrc: UInt32

    public init(marker: Bool = false, payloadType: UInt8, sequenceNumber: UInt16, timestamp: UInt32, ssrc: UInt32) {
        self.marker = marker
        self.payloadType = payloadType
        self.sequenceNumber = sequenceNumber
        self.timestamp = timestamp
        self.ssrc = ssrc
    }

    public static let length = 12

    public func packet(payload: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = [0x80, (marker ? 0x80 : 0) | (payloadType & 0x7f)]
        bytes += [UInt8(sequenceNumber >> 8), UInt8(sequenceNumber & 0xff)]
        bytes += [24, 16, 8, 0].map { UInt8((timestamp >> $0) & 0xff) }
        bytes += [24, 16, 8, 0].map { UInt8((ssrc >> $0) & 0xff) }
        return bytes + payload
    }

    /// The header of a version-2 packet with no CSRCs and no extension, and the bytes after it
    /// (for SRTP, the encrypted payload followed by the tag). `nil` for anything else.
    public static func parse(_ bytes: [UInt8]) -> (header: RTPHeader, rest: [UInt8])? {
        guard bytes.count >= length, bytes[0] & 0xc0 == 0x80, bytes[0] & 0x3f == 0 else { return nil }
        let header = RTPHeader(
            marker: bytes[1] & 0x80 != 0,
            payloadType: bytes[1] & 0x7f,
            sequenceNumber: UInt16(bytes[2]) << 8 | UInt16(bytes[3]),
            timestamp: bytes[4..<8].reduce(0) { $0 << 8 | UInt32($1) },
            ssrc: bytes[8..<12].reduce(0) { $0 << 8 | UInt32($1) })
        return (header, Array(bytes[length...]))
    }
}

/// One packet received by `RTPStreamer.receive`.
public struct ReceivedRTP: Sendable {
    public let header: RTPHeader
    public let payload: [UInt8]
    /// The datagram as it arrived (SRTP before unprotecting).
    public let wireLength: Int
    public let sourcePort: UInt16
}

/// A blocking RTP sender and receiver on one UDP socket, optionally through SRTP. rtpengine
/// latches onto the source of what it receives, so send from the port the SDP advertised: that
/// is this socket's `port`.
public final class RTPStreamer {
    public let socket: UDPSocket
    public var header: RTPHeader
    /// Samples per packet, added to the timestamp after each send.
    public var timestampStep: UInt32

    public var port: UInt16 { socket.port }

    public init(port: UInt16 = 0, ssrc: UInt32 = UInt32.random(in: 1...UInt32.max), payloadType: UInt8 = 0,
                firstSequence: UInt16 = UInt16.random(in: 0...0x7fff), firstTimestamp: UInt32 = UInt32.random(in: 0...0x7fff_ffff),
                timestampStep: UInt32 = 160) throws {
        socket = try UDPSocket(port: port)
        header = RTPHeader(payloadType: payloadType, sequenceNumber: firstSequence, timestamp: firstTimestamp, ssrc: ssrc)
        self.timestampStep = timestampStep
    }

    public func close() { socket.close() }

    /// Sends one packet per payload to `host:port`, `interval` apart, protected by `srtp` (an
    /// outbound session) when given. Returns the headers sent, in order.
    @discardableResult
    public func send(
        payloads: [[UInt8]], to port: UInt16, host: String = "127.0.0.1", interval: Duration = .milliseconds(20),
        srtp: SRTPSession? = nil
    ) throws -> [RTPHeader] {
        var sent: [RTPHeader] = []
        var next = ContinuousClock.now
        for (index, payload) in payloads.enumerated() {
            header.marker = index == 0 && sent.isEmpty
            var packet = header.packet(payload: payload)
            if let srtp { packet = try srtp.protect(rtp: packet) }
            try socket.send(packet, to: host, port: port)
            sent.append(header)
            header.marker = false
            header.sequenceNumber &+= 1
            header.timestamp &+= timestampStep
            next += interval
            let wait = next - ContinuousClock.now
            if wait > .zero, index < payloads.count - 1 { Thread.sleep(forTimeInterval: Self.seconds(wait)) }
        }
        return sent
    }

    /// Receives until `count` packets arrived or `timeout` passed, unprotecting each with `srtp`
    /// (an inbound session) when given. A datagram that is not RTP, or fails to unprotect, is
    /// counted in `rejected` with its reason, never returned.
    public func receive(
        count: Int, timeout: Duration, srtp: SRTPSession? = nil
    ) throws -> (packets: [ReceivedRTP], rejected: [String]) {
        let deadline = ContinuousClock.now + timeout
        var packets: [ReceivedRTP] = []
        var rejected: [String] = []
        while packets.count < count, let (bytes, _, sourcePort) = try socket.receive(before: deadline) {
            var plain = bytes
            if let srtp {
                do {
                    plain = try srtp.unprotect(srtp: bytes)
                } catch {
                    rejected.append("\(bytes.count) bytes from \(sourcePort): \(error)")
                    continue
                }
            }
            guard let (header, payload) = RTPHeader.parse(plain) else {
                rejected.append("\(bytes.count) bytes from \(sourcePort): not RTP")
                continue
            }
            packets.append(ReceivedRTP(header: header, payload: payload, wireLength: bytes.count, sourcePort: sourcePort))
        }
        return (packets, rejected)
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
