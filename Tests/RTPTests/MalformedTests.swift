import Testing

@testable import RTP

@Suite("Malformed input throws a precise error and never traps")
struct MalformedTests {
    @Test("every truncation of the padded packet throws")
    func rtpTruncations() {
        #expect(viewError(Vectors.rtpFull) == nil)
        for length in 0..<Vectors.rtpFull.count {
            let error = viewError(Array(Vectors.rtpFull.prefix(length)))
            #expect(error != nil, "a cut at \(length) validated")
            if length < 12 { #expect(error == .tooShort(length: length, minimum: 12)) }
        }
    }

    @Test("version 0, 1 and 3 are refused")
    func wrongVersion() {
        for version: UInt8 in [0, 1, 3] {
            var bytes = Vectors.pcmu(sequence: 1, timestamp: 1)
            bytes[0] = bytes[0] & 0x3F | version << 6
            #expect(viewError(bytes) == .badVersion(version))
        }
    }

    @Test("a CSRC count beyond the packet")
    func csrcOverrun() {
        var bytes = [UInt8](repeating: 0, count: 12 + 4 * 14)
        bytes[0] = 0x8F
        #expect(viewError(bytes) == .csrcOverrun(csrcCount: 15, length: 68))
        #expect(viewError(bytes + [0, 0, 0, 0]) == nil)
    }

    @Test("an extension header missing, or longer than the packet")
    func extensionOverrun() {
        var bytes: [UInt8] = [0x90, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xBE, 0xDE]
        #expect(viewError(bytes) == .extensionOverrun(needed: 16, length: 14))
        bytes += [0xFF, 0xFF, 1, 2, 3, 4]
        #expect(viewError(bytes) == .extensionOverrun(needed: 16 + 4 * 0xFFFF, length: 20))
        bytes[15] = 0x01
        bytes[14] = 0x00
        #expect(viewError(bytes) == nil)
    }

    @Test("padding count 0, or more than the bytes after the header")
    func badPadding() {
        var bytes = Vectors.pcmu(sequence: 1, timestamp: 1)
        bytes[0] |= 0x20
        bytes[bytes.count - 1] = 0
        #expect(viewError(bytes) == .badPadding(count: 0, available: 160))
        bytes[bytes.count - 1] = 161
        #expect(viewError(bytes) == .badPadding(count: 161, available: 160))
        bytes[bytes.count - 1] = 160
        #expect(viewError(bytes) == nil)
        let headerOnly: [UInt8] = [0xA0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1]
        #expect(viewError(headerOnly) == .badPadding(count: 1, available: 0))
    }

    @Test("every truncation of SR+SDES+BYE throws, except at a packet boundary, which keeps the packets before it")
    func rtcpTruncations() throws {
        let whole = try RTCPCompound(parsing: Vectors.srSdesBye)
        for length in 0..<Vectors.srSdesBye.count {
            let prefix = Array(Vectors.srSdesBye.prefix(length))
            if let boundary = Vectors.srSdesByeBoundaries.firstIndex(of: length) {
                #expect(try RTCPCompound(parsing: prefix).packets == Array(whole.packets.prefix(boundary + 1)))
            } else {
                #expect(compoundError(prefix) != nil, "a cut at \(length) parsed")
            }
        }
        #expect(compoundError([]) == .rtcpEmpty)
    }

    @Test("an RTCP length field too long or too short")
    func rtcpLength() {
        var beyondEnd = Vectors.srSdesBye
        beyondEnd[3] = 0x30
        #expect(compoundError(beyondEnd) == .rtcpLengthMismatch(index: 0, declared: 196, available: 96))
        // One word too long swallows the SDES header as SR profile extension, and the SDES's SSRC
        // is then read as a header.
        var oneWordLong = Vectors.srSdesBye
        oneWordLong[3] = 0x0D
        #expect(compoundError(oneWordLong) == .rtcpBadVersion(index: 1, version: 1))
        var lastTooLong = Vectors.srSdesBye
        lastTooLong[80 + 3] = 0x04
        #expect(compoundError(lastTooLong) == .rtcpLengthMismatch(index: 2, declared: 20, available: 16))
        var tooShort = Vectors.srSdesBye
        tooShort[3] = 0x0B
        #expect(compoundError(tooShort) == .rtcpTruncated(index: 0, packetType: 200, needed: 48, available: 44))
        // An SDES one word short leaves its last word to be read as a header, of version 0.
        var sdesShort = Vectors.srSdesBye
        sdesShort[52 + 3] = 0x05
        #expect(compoundError(sdesShort) == .sdesItemOverrun(index: 1, chunk: 0))
        #expect(compoundError(Vectors.srSdesBye + [0x81, 0xC9]) == .rtcpTrailingBytes(count: 2))
    }

    @Test("RTCP version, padding not last, and bad padding counts")
    func rtcpHeaderChecks() {
        var version = Vectors.srSdesBye
        version[52] = 0x41
        #expect(compoundError(version) == .rtcpBadVersion(index: 1, version: 1))
        var paddedFirst = Vectors.srSdesBye
        paddedFirst[0] |= 0x20
        #expect(compoundError(paddedFirst) == .rtcpPaddingNotLast(index: 0))
        for count: UInt8 in [0, 3, 16] {
            var padded = Vectors.srSdesBye
            padded[80] |= 0x20
            padded[padded.count - 1] = count
            #expect(compoundError(padded) == .rtcpBadPadding(index: 2, count: count))
        }
        var goodPadding = Vectors.srSdesBye
        goodPadding[80] |= 0x20
        goodPadding[goodPadding.count - 1] = 4
        // Four bytes of padding leave the BYE's SSRC and the reason's first word: a truncated reason.
        #expect(compoundError(goodPadding) == .rtcpTruncated(index: 2, packetType: 203, needed: 11, available: 8))
    }

    @Test("RTCP bodies shorter than their count: RR blocks, BYE sources, APP")
    func rtcpShortBodies() {
        #expect(compoundError([0x81, 0xC9, 0x00, 0x01, 0, 0, 0, 1]) == .rtcpTruncated(index: 0, packetType: 201, needed: 28, available: 4))
        #expect(compoundError([0x82, 0xCB, 0x00, 0x01, 0, 0, 0, 1]) == .rtcpTruncated(index: 0, packetType: 203, needed: 8, available: 4))
        #expect(compoundError([0x80, 0xCC, 0x00, 0x01, 0, 0, 0, 1]) == .rtcpTruncated(index: 0, packetType: 204, needed: 8, available: 4))
        #expect(compoundError([0x80, 0xCA, 0x00, 0x01, 0, 0, 0, 1]) == .rtcpTrailingBody(index: 0, count: 4))
        #expect(compoundError([0x81, 0xCB, 0x00, 0x03, 0, 0, 0, 1, 1, 0x78, 0, 0, 0, 0, 0, 0]) == .rtcpTrailingBody(index: 0, count: 4))
    }

    @Test("every error has a description that names the problem")
    func descriptions() {
        let errors: [RTPParseError] = [
            .tooShort(length: 3, minimum: 12), .badVersion(1), .csrcOverrun(csrcCount: 3, length: 20),
            .extensionOverrun(needed: 30, length: 20), .badPadding(count: 0, available: 4), .badPadding(count: 9, available: 4),
            .rtcpLengthMismatch(index: 1, declared: 40, available: 8), .rtcpTrailingBytes(count: 2), .rtcpEmpty,
            .rtcpBadVersion(index: 0, version: 3), .rtcpPaddingNotLast(index: 0), .rtcpBadPadding(index: 0, count: 3),
            .rtcpTruncated(index: 0, packetType: 200, needed: 24, available: 4), .sdesItemOverrun(index: 1, chunk: 0),
            .rtcpTrailingBody(index: 0, count: 4), .notElementExtension(profile: 0xABAC), .extensionElementOverrun(offset: 3),
            .telephoneEventLength(5),
        ]
        let descriptions = errors.map(\.description)
        #expect(Set(descriptions).count == errors.count)
        #expect(descriptions[0] == "too short: 3 bytes, at least 12 needed")
        #expect(descriptions[15].contains("0xabac"))
    }

    /// Random bytes, and valid packets with random bytes changed, through every parser: none may
    /// trap, and whatever parses must survive serialize → parse unchanged.
    @Test("10k seeded garbage inputs never crash and what parses round-trips")
    func garbage() throws {
        var random = SeededGenerator(seed: 0x5EED_0F_0123)
        let seeds = [Vectors.rtpFull, Vectors.srSdesBye, Vectors.pcmu(sequence: 9, timestamp: 9), [0x09, 0x8A, 0x03, 0xE8]]
        var parsedRTP = 0
        var parsedRTCP = 0
        for iteration in 0..<10_000 {
            var bytes: [UInt8]
            if iteration % 2 == 0 {
                bytes = (0..<Int.random(in: 0...96, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
                if !bytes.isEmpty, Bool.random(using: &random) { bytes[0] = 0x80 | bytes[0] & 0x3F }
            } else {
                bytes = seeds[Int.random(in: 0..<seeds.count, using: &random)]
                for _ in 0..<Int.random(in: 1...4, using: &random) {
                    bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
                }
                bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &random)))
            }
            if let packet = try? RTPPacket(parsing: bytes) {
                parsedRTP += 1
                #expect(try RTPPacket(parsing: packet.serialized()) == packet)
                _ = try? packet.header.extension?.elements()
                bytes.withUnsafeBytes { raw in
                    guard let view = try? RTPPacketView(validating: raw) else { return }
                    #expect(view.payloadRange.upperBound <= raw.count)
                    _ = try? TelephoneEvent.events(in: view.payload)
                }
            }
            if let compound = try? RTCPCompound(parsing: bytes) {
                parsedRTCP += 1
                #expect(try RTCPCompound(parsing: compound.serialized()) == compound)
            }
            _ = bytes.withUnsafeBytes { raw in
                (RTPDemultiplex.classify(raw), RTCPCompound.firstSenderSSRC(in: raw), try? TelephoneEvent.events(in: raw))
            }
        }
        // The mutations must reach the parsers' success paths, or the round-trip checks test nothing.
        #expect(parsedRTP > 100)
        #expect(parsedRTCP > 10)
    }
}
