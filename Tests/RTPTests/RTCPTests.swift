import Testing

@testable import RTP

@Suite("RTCP compounds (RFC 3550 §6)")
struct RTCPTests {
    @Test("SR + SDES + BYE: every field, and a byte-exact round trip")
    func srSdesBye() throws {
        let compound = try RTCPCompound(parsing: Vectors.srSdesBye)
        #expect(compound.packets.count == 3)
        #expect(!compound.isReducedSize)
        guard case .senderReport(let sr) = compound.packets[0] else {
            Issue.record("first packet is \(compound.packets[0])")
            return
        }
        #expect(sr.ssrc == 0x5E1F_5C2B)
        #expect(sr.ntpTimestamp == 0xE8A1_B2C3_4D5E_6F70)
        #expect(sr.compactNTPTimestamp == 0xB2C3_4D5E)
        #expect(sr.rtpTimestamp == 128_000)
        #expect(sr.packetCount == 250)
        #expect(sr.octetCount == 40_000)
        #expect(sr.profileExtension.isEmpty)
        #expect(
            sr.reports == [
                RTCPReportBlock(
                    ssrc: 0x3C4D_5E6F, fractionLost: 5, cumulativeLost: -2, extendedHighestSequence: 0x0001_0010,
                    jitter: 31, lastSenderReport: 0xB2C3_4D5E, delaySinceLastSenderReport: 65536)
            ])
        guard case .sourceDescription(let chunks) = compound.packets[1] else {
            Issue.record("second packet is \(compound.packets[1])")
            return
        }
        #expect(chunks.count == 1)
        #expect(chunks.first?.ssrc == 0x5E1F_5C2B)
        #expect(chunks.first?.cname == "phone@192.0.2.10")
        #expect(compound.packets[2] == .bye(RTCPBye(ssrcs: [0x5E1F_5C2B], reasonText: "hangup")))
        #expect(compound.serialized() == Vectors.srSdesBye)
        #expect(withRaw(Vectors.srSdesBye) { RTCPCompound.firstSenderSSRC(in: $0) } == 0x5E1F_5C2B)
    }

    @Test("RR, APP and SDES items of every type round-trip through a built compound")
    func builtCompound() throws {
        let items: [RTCPSourceDescriptionItem] = [
            .init(type: .cname, text: "a@b"), .init(type: .name, text: "Alice"), .init(type: .email, text: "a@example.com"),
            .init(type: .phone, text: "+15551234"), .init(type: .location, text: "desk"), .init(type: .tool, text: "outpost"),
            .init(type: .note, text: "on hold"), .init(type: .priv, value: [3, 0x78, 0x79, 0x7A, 0x01]),
            .init(type: .init(rawValue: 42), value: []),
        ]
        let app = try #require(RTCPApplication(subtype: 3, ssrc: 9, name: "OUTP", data: [1, 2, 3, 4]))
        let compound = RTCPCompound(packets: [
            .receiverReport(
                RTCPReceiverReport(
                    ssrc: 1, reports: [.init(ssrc: 2, cumulativeLost: 0x7F_FFFF), .init(ssrc: 3, cumulativeLost: -0x80_0000)],
                    profileExtension: [0xAA, 0xBB, 0xCC, 0xDD])),
            .sourceDescription([.init(ssrc: 1, items: items), .init(ssrc: 4, items: [])]),
            .application(app),
            .bye(RTCPBye(ssrcs: [1, 4])),
        ])
        let wire = compound.serialized()
        #expect(wire.count % 4 == 0)
        let parsed = try RTCPCompound(parsing: wire)
        #expect(parsed == compound)
        #expect(parsed.serialized() == wire)
        #expect(app.nameText == "OUTP")
    }

    @Test("feedback (RFC 4585 PSFB PLI) and XR are kept whole; a compound without SR/RR is reduced-size (RFC 5506)")
    func otherTypesAndReducedSize() throws {
        let pli: [UInt8] = [0x81, 0xCE, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02]
        let compound = try RTCPCompound(parsing: pli)
        #expect(compound.packets == [.other(packetType: 206, count: 1, body: [0, 0, 0, 1, 0, 0, 0, 2])])
        #expect(compound.isReducedSize)
        #expect(compound.serialized() == pli)
        #expect(withRaw(pli) { RTCPCompound.firstSenderSSRC(in: $0) } == 1)
    }

    @Test("padding on the last packet is dropped and does not come back (RFC 3550 §6.4.1)")
    func paddingOnLast() throws {
        // RR with no blocks, P set, length 2 words: SSRC then 4 bytes of padding (count 4).
        let padded: [UInt8] = [0xA0, 0xC9, 0x00, 0x02, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x04]
        let compound = try RTCPCompound(parsing: padded)
        #expect(compound.packets == [.receiverReport(RTCPReceiverReport(ssrc: 7))])
        #expect(compound.serialized() == [0x80, 0xC9, 0x00, 0x01, 0x00, 0x00, 0x00, 0x07])
    }

    @Test("a cumulative loss outside 24 bits is clamped when written")
    func cumulativeClamp() throws {
        let rr = RTCPCompound(packets: [
            .receiverReport(RTCPReceiverReport(ssrc: 1, reports: [.init(ssrc: 2, cumulativeLost: .max), .init(ssrc: 3, cumulativeLost: .min)]))
        ])
        guard case .receiverReport(let parsed) = try RTCPCompound(parsing: rr.serialized()).packets.first else {
            Issue.record("not an RR")
            return
        }
        #expect(parsed.reports.map(\.cumulativeLost) == [0x7F_FFFF, -0x80_0000])
    }

    @Test("more than 31 report blocks or BYE sources: the first 31 are written")
    func countLimit() throws {
        let many = (0..<40).map { RTCPReportBlock(ssrc: UInt32($0)) }
        let compound = RTCPCompound(packets: [
            .receiverReport(RTCPReceiverReport(ssrc: 1, reports: many)), .bye(RTCPBye(ssrcs: Array(0..<40))),
        ])
        let parsed = try RTCPCompound(parsing: compound.serialized())
        #expect(parsed.packets == [
            .receiverReport(RTCPReceiverReport(ssrc: 1, reports: Array(many.prefix(31)))), .bye(RTCPBye(ssrcs: Array(0..<31))),
        ])
    }

    @Test("BYE with an empty reason differs from one without")
    func emptyReason() throws {
        let with = RTCPCompound(packets: [.bye(RTCPBye(ssrcs: [5], reason: []))])
        let without = RTCPCompound(packets: [.bye(RTCPBye(ssrcs: [5]))])
        #expect(with.serialized().count == 12)
        #expect(without.serialized().count == 8)
        #expect(try RTCPCompound(parsing: with.serialized()) == with)
        #expect(try RTCPCompound(parsing: without.serialized()) == without)
    }
}
