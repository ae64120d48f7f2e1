import Testing

@testable import RTP

@Suite("RTP packets (RFC 3550 §5.1, RFC 8285)")
struct RTPPacketTests {
    @Test("the view reads every field of a packet with CSRCs, extension and padding")
    func viewFields() throws {
        try withRaw(Vectors.rtpFull) { raw in
            let view = try RTPPacketView(validating: raw)
            #expect(view.version == 2)
            #expect(view.hasPadding)
            #expect(view.hasExtension)
            #expect(view.csrcCount == 2)
            #expect(view.marker)
            #expect(view.payloadType == 96)
            #expect(view.sequenceNumber == 0x1234)
            #expect(view.timestamp == 0xDEAD_BEEF)
            #expect(view.ssrc == 0x1122_3344)
            #expect(view.csrc(at: 0) == 0xAAAA_AAAA)
            #expect(view.csrc(at: 1) == 0xBBBB_BBBB)
            #expect(view.headerLength == Vectors.rtpFullHeaderLength)
            #expect(view.payloadRange == Vectors.rtpFullHeaderLength..<(Vectors.rtpFull.count - 3))
            #expect(Array(view.payload) == [0xF0, 0xF1, 0xF2])
            #expect(view.paddingLength == 3)
            #expect(view.extensionProfile == 0xBEDE)
            #expect(view.extensionDataRange == 24..<32)
        }
    }

    @Test("a bare 12-byte header: no CSRC, no extension, empty payload")
    func minimalHeader() throws {
        let bytes: [UInt8] = [0x80, 0x08, 0x00, 0x01, 0, 0, 0, 160, 0, 0, 0, 1]
        try withRaw(bytes) { raw in
            let view = try RTPPacketView(validating: raw)
            #expect(!view.marker && !view.hasPadding && !view.hasExtension)
            #expect(view.payloadType == 8)
            #expect(view.timestamp == 160)
            #expect(view.payloadRange == 12..<12)
            #expect(view.extensionProfile == nil)
        }
    }

    @Test("parse → serialize is byte-exact, padding included")
    func packetRoundTrip() throws {
        let packet = try RTPPacket(parsing: Vectors.rtpFull)
        #expect(packet.header.csrcs == [0xAAAA_AAAA, 0xBBBB_BBBB])
        #expect(packet.header.extension?.profile == 0xBEDE)
        #expect(packet.payload == [0xF0, 0xF1, 0xF2])
        #expect(packet.paddingLength == 3)
        #expect(packet.serialized() == Vectors.rtpFull)
        #expect(try RTPPacket(parsing: packet.serialized()) == packet)
    }

    @Test("the header alone serializes to the header bytes")
    func headerRoundTrip() throws {
        let header = try RTPHeader(parsing: Vectors.rtpFull)
        #expect(header.serialized() == Array(Vectors.rtpFull.prefix(Vectors.rtpFullHeaderLength)))
        #expect(header.encodedLength == Vectors.rtpFullHeaderLength)
        #expect(header.padding)
    }

    @Test("a built packet parses back to itself")
    func builtPacket() throws {
        let ext = try #require(
            RTPHeaderExtension.twoByte([
                RTPHeaderExtensionElement(id: 3, data: []), RTPHeaderExtensionElement(id: 200, data: [1, 2, 3]),
            ], appBits: 5))
        let header = RTPHeader(
            marker: true, payloadType: 101, sequenceNumber: 65535, timestamp: 0xFFFF_FFFF, ssrc: 7, csrcs: [1, 2, 3],
            extension: ext)
        let packet = RTPPacket(header: header, payload: [9, 8, 7, 6], paddingLength: 8)
        let wire = packet.serialized()
        #expect(wire.count == 12 + 12 + 4 + 8 + 4 + 8)
        #expect(wire[0] == 0x80 | 0x20 | 0x10 | 3)
        #expect(wire.last == 8)
        var expected = packet
        expected.header.padding = true
        #expect(try RTPPacket(parsing: wire) == expected)
    }

    @Test("more than 15 CSRCs: only the first 15 are written (RFC 3550 §5.1)")
    func csrcLimit() throws {
        let header = RTPHeader(payloadType: 0, sequenceNumber: 1, timestamp: 1, ssrc: 1, csrcs: Array(1...20))
        let parsed = try RTPHeader(parsing: header.serialized())
        #expect(parsed.csrcs == Array(1...15))
    }

    @Test("RFC 8285 one-byte elements, with padding between and ID 15 ending the list")
    func oneByteElements() throws {
        let packet = try RTPPacket(parsing: Vectors.rtpFull)
        let elements = try #require(packet.header.extension).elements()
        #expect(elements == [.init(id: 1, data: [0x7F]), .init(id: 2, data: [1, 2])])

        let stopped = RTPHeaderExtension(profile: 0xBEDE, data: [0x00, 0x10, 0xAA, 0xF3, 0x20, 0xBB, 0, 0])
        #expect(try stopped.elements() == [.init(id: 1, data: [0xAA])])

        let built = try #require(RTPHeaderExtension.oneByte([.init(id: 14, data: Array(1...16)), .init(id: 1, data: [5])]))
        #expect(built.data.count % 4 == 0)
        #expect(try built.elements() == [.init(id: 14, data: Array(1...16)), .init(id: 1, data: [5])])
        #expect(RTPHeaderExtension.oneByte([.init(id: 15, data: [1])]) == nil)
        #expect(RTPHeaderExtension.oneByte([.init(id: 1, data: [])]) == nil)
    }

    @Test("RFC 8285 two-byte elements allow empty data and IDs above 14")
    func twoByteElements() throws {
        let ext = RTPHeaderExtension(profile: 0x1000, data: [0x00, 0x20, 0x00, 0xFF, 0x02, 0x01, 0x02, 0x00])
        #expect(ext.isTwoByte)
        #expect(try ext.elements() == [.init(id: 0x20, data: []), .init(id: 0xFF, data: [1, 2])])
    }

    @Test("element lengths past the end throw; other profiles have no elements")
    func badElements() {
        #expect(throws: RTPParseError.extensionElementOverrun(offset: 0)) {
            try RTPHeaderExtension(profile: 0xBEDE, data: [0x13, 1, 2, 3]).elements()
        }
        #expect(throws: RTPParseError.extensionElementOverrun(offset: 2)) {
            try RTPHeaderExtension(profile: 0x1000, data: [0, 0, 0x05, 0x02]).elements()
        }
        #expect(throws: RTPParseError.notElementExtension(profile: 0xABAC)) {
            try RTPHeaderExtension(profile: 0xABAC, data: []).elements()
        }
    }

    @Test("extension data that is not a whole number of words is padded with zeros")
    func extensionPadding() throws {
        let header = RTPHeader(
            payloadType: 0, sequenceNumber: 1, timestamp: 1, ssrc: 1,
            extension: RTPHeaderExtension(profile: 0x1234, data: [1, 2, 3, 4, 5]))
        let parsed = try RTPHeader(parsing: header.serialized())
        #expect(parsed.extension == RTPHeaderExtension(profile: 0x1234, data: [1, 2, 3, 4, 5, 0, 0, 0]))
    }

    @Test("relay rewrites change only their field, and the payload type keeps the marker")
    func inPlaceRewrites() throws {
        var bytes = Vectors.rtpFull
        bytes.withUnsafeMutableBytes { raw in
            RTPPacketView.setPayloadType(0x7F & 8, in: raw)
            RTPPacketView.setSSRC(0x0102_0304, in: raw)
            RTPPacketView.setSequenceNumber(0xFFFE, in: raw)
            RTPPacketView.setTimestamp(0x0A0B_0C0D, in: raw)
        }
        var expected = Vectors.rtpFull
        expected.replaceSubrange(1..<12, with: [0x88, 0xFF, 0xFE, 0x0A, 0x0B, 0x0C, 0x0D, 0x01, 0x02, 0x03, 0x04])
        #expect(bytes == expected)
        try withRaw(bytes) { raw in
            let view = try RTPPacketView(validating: raw)
            #expect(view.marker && view.payloadType == 8 && view.ssrc == 0x0102_0304)
        }
        bytes.withUnsafeMutableBytes { raw in
            RTPPacketView.setPayloadType(0xFF, in: raw)  // the top bit is the marker's, not the type's
            RTPPacketView.setMarker(false, in: raw)
        }
        #expect(bytes[1] == 0x7F)
    }
}

@Suite("Demultiplexing one port (RFC 7983, RFC 5761 §4)")
struct DemultiplexTests {
    static let stunBinding: [UInt8] =
        [0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42] + [UInt8](repeating: 0x5A, count: 12)

    @Test func rtcpBySecondByte() {
        #expect(withRaw(Vectors.srSdesBye) { RTPDemultiplex.isRTCP($0) })
        #expect(!withRaw(Vectors.pcmu(sequence: 1, timestamp: 1)) { RTPDemultiplex.isRTCP($0) })
        // PT 96 with the marker is 224, above the RTCP range; PT 72 with the marker collides (200).
        #expect(!withRaw([0x80, 0xE0]) { RTPDemultiplex.isRTCP($0) })
        #expect(withRaw([0x80, 0xC8]) { RTPDemultiplex.isRTCP($0) })
        #expect(withRaw([0x80, 0xDF]) { RTPDemultiplex.isRTCP($0) })
        #expect(!withRaw([0x80, 0xBF]) { RTPDemultiplex.isRTCP($0) })
        #expect(!withRaw([0x80]) { RTPDemultiplex.isRTCP($0) })
        #expect(!withRaw(Self.stunBinding) { RTPDemultiplex.isRTCP($0) })
    }

    @Test func stunByCookie() {
        #expect(withRaw(Self.stunBinding) { RTPDemultiplex.isSTUN($0) })
        var wrongCookie = Self.stunBinding
        wrongCookie[7] = 0x43
        #expect(!withRaw(wrongCookie) { RTPDemultiplex.isSTUN($0) })
        var wrongType = Self.stunBinding
        wrongType[0] = 0x04
        #expect(!withRaw(wrongType) { RTPDemultiplex.isSTUN($0) })
        #expect(!withRaw(Array(Self.stunBinding.prefix(19))) { RTPDemultiplex.isSTUN($0) })
    }

    @Test func classifyByFirstByte() {
        #expect(withRaw(Self.stunBinding) { RTPDemultiplex.classify($0) } == .stun)
        #expect(withRaw([17, 0]) { RTPDemultiplex.classify($0) } == .zrtp)
        #expect(withRaw([22, 0xFE, 0xFD]) { RTPDemultiplex.classify($0) } == .dtls)
        #expect(withRaw([0x40, 0x00]) { RTPDemultiplex.classify($0) } == .turnChannel)
        #expect(withRaw(Vectors.pcmu(sequence: 1, timestamp: 1)) { RTPDemultiplex.classify($0) } == .rtp)
        #expect(withRaw(Vectors.srSdesBye) { RTPDemultiplex.classify($0) } == .rtcp)
        #expect(withRaw([]) { RTPDemultiplex.classify($0) } == .unknown)
        #expect(withRaw([0xFF, 0]) { RTPDemultiplex.classify($0) } == .unknown)
    }
}
