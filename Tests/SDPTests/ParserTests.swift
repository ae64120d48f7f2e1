import Testing

@testable import SDP

@Suite("Parsing and serializing")
struct ParserTests {
    @Test("parse → serialize is byte-exact for canonical input", arguments: Fixtures.canonical)
    func roundTripIsByteExact(fixture: (name: String, text: String)) throws {
        let parsed = try SessionDescription(parsing: fixture.text)
        #expect(parsed.serialized() == Array(fixture.text.utf8), "\(fixture.name)")
        #expect(parsed.text == fixture.text)
        let again = try SessionDescription(parsing: parsed.serialized())
        #expect(again == parsed)
    }

    @Test("bare LF line endings parse like CRLF and serialize with CRLF", arguments: Fixtures.canonical)
    func bareLineFeeds(fixture: (name: String, text: String)) throws {
        let lf = fixture.text.replacing("\r\n", with: "\n")
        let parsed = try SessionDescription(parsing: lf)
        let canonical = try SessionDescription(parsing: fixture.text)
        #expect(parsed == canonical)
        #expect(parsed.text == fixture.text)
    }

    @Test func mixedLineEndingsAndMissingFinalNewline() throws {
        let text = "v=0\r\no=- 1 2 IN IP4 192.0.2.1\ns=-\r\nt=0 0\nm=audio 4000 RTP/AVP 0"
        let parsed = try SessionDescription(parsing: text)
        #expect(parsed.media.count == 1)
        #expect(parsed.media[0].formats == ["0"])
        #expect(parsed.text.hasSuffix("m=audio 4000 RTP/AVP 0\r\n"))
    }

    @Test func trailingBlankLinesAreIgnored() throws {
        let parsed = try SessionDescription(parsing: Fixtures.rfc3264Answer + "\r\n\r\n")
        #expect(parsed.text == Fixtures.rfc3264Answer)
    }

    @Test func ciscoOfferFields() throws {
        let offer = try SessionDescription(parsing: Fixtures.ciscoOffer)
        #expect(offer.origin.username == "Cisco-SIPUA")
        #expect(offer.origin.sessionID == "28016")
        #expect(offer.origin.sessionVersion == "0")
        #expect(offer.origin.address == "10.20.30.41")
        #expect(offer.sessionName == "SIP Call")
        #expect(offer.bandwidths == [Bandwidth(type: "AS", value: 4064)])
        #expect(offer.connection == nil)
        #expect(offer.timings == [Timing(start: 0, stop: 0)])
        #expect(offer.media.count == 1)
        let audio = offer.media[0]
        #expect(audio.type == .audio)
        #expect(audio.port == 26930)
        #expect(audio.portCount == nil)
        #expect(audio.transport == .rtpSAVP)
        #expect(audio.formats == ["114", "9", "124", "0", "8", "116", "18", "101"])
        #expect(audio.connections == [Connection(addressType: "IP4", address: "10.20.30.41")])
        #expect(audio.bandwidths == [Bandwidth(type: "TIAS", value: 64000)])
        #expect(audio.attributes.count == 18)
        #expect(audio.attributes.last == SDPAttribute("trafficclass", "conversational.audio.avconf.aq:admitted"))
        #expect(offer.connection(of: audio)?.address == "10.20.30.41")
    }

    @Test func fullSessionFields() throws {
        let session = try SessionDescription(parsing: Fixtures.fullSession)
        #expect(session.information == "SDP Offer #1")
        #expect(session.uri == "http://www.jdoe.example.com/home.html")
        #expect(session.emails == ["Jane Doe <jane@jdoe.example.com>"])
        #expect(session.phones == ["+1 617 555-6011"])
        #expect(session.connection == Connection(addressType: "IP4", address: "233.252.0.1", ttl: 127, addressCount: 3))
        #expect(session.key == "prompt")
        #expect(session.timings.count == 2)
        let first = session.timings[0]
        #expect(first.start == 3_724_394_400)
        #expect(first.repeats.count == 1)
        #expect(first.repeats[0].interval == TypedTime(value: 7, unit: .days))
        #expect(first.repeats[0].interval.seconds == 604_800)
        #expect(first.repeats[0].activeDuration.seconds == 3_600)
        #expect(first.repeats[0].offsets == [TypedTime(value: 0), TypedTime(value: 25, unit: .hours)])
        #expect(first.zoneAdjustments == [
            ZoneAdjustment(time: 2_882_844_526, offset: TypedTime(value: -1, unit: .hours)),
            ZoneAdjustment(time: 2_898_848_070, offset: TypedTime(value: 0)),
        ])
        #expect(session.timings[1].repeats.isEmpty)
        #expect(session.direction == .recvonly)

        let audio = session.media[0]
        #expect(audio.port == 49170)
        #expect(audio.portCount == 2)
        #expect(audio.information == "Main audio")
        #expect(audio.connections == [Connection(addressType: "IP6", address: "ff1e:db8::1", addressCount: 3)])
        #expect(audio.key == "clear:secret")
        #expect(session.direction(of: audio) == .recvonly)
        #expect(session.media[1].connections[0].address == "2001:db8::2")
    }

    @Test func outOfOrderSessionLinesAreAcceptedAndReordered() throws {
        let offer = try SessionDescription(parsing: Fixtures.outOfOrderOffer)
        #expect(offer.connection?.address == "192.0.2.4")
        #expect(offer.timings == [Timing(start: 0, stop: 0)])
        let text = offer.text
        let connection = try #require(text.firstRange(of: "c=IN IP4 192.0.2.4"))
        let timing = try #require(text.firstRange(of: "t=0 0"))
        #expect(connection.lowerBound < timing.lowerBound)
    }

    @Test func extraBlanksBetweenFieldsAreNormalized() throws {
        let text = "v=0\r\no=-  1   2 IN IP4 192.0.2.1 \r\ns=-\r\nt=0\t0\r\nm=audio  4000  RTP/AVP  0 8 \r\na=sendrecv \r\n"
        let parsed = try SessionDescription(parsing: text)
        #expect(parsed.origin.sessionVersion == "2")
        #expect(parsed.media[0].formats == ["0", "8"])
        #expect(parsed.media[0].attributes == [SDPAttribute("sendrecv")])
        #expect(
            parsed.text
                == "v=0\r\no=- 1 2 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8\r\na=sendrecv\r\n")
    }

    @Test func attributesKeepOrderAndUnknownOnesVerbatim() throws {
        let text = sdp(
            "v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "t=0 0",
            "a=X-custom:some value: with colons  and  spaces ",
            "a=flag",
            "a=empty:",
            "m=audio 4000 RTP/AVP 0",
            "a=zzz:1", "a=aaa:2", "a=zzz:3")
        let parsed = try SessionDescription(parsing: text)
        #expect(parsed.attributes == [
            SDPAttribute("X-custom", "some value: with colons  and  spaces "),
            SDPAttribute("flag"),
            SDPAttribute("empty", ""),
        ])
        #expect(parsed.media[0].attributes.map(\.value) == ["1", "2", "3"])
        #expect(parsed.media[0].attributes.all(named: "zzz").count == 2)
        #expect(parsed.text == text)
    }

    @Test func utf8TextIsKept() throws {
        let text = sdp("v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=Réunion – 会议", "t=0 0")
        let parsed = try SessionDescription(parsing: text)
        #expect(parsed.sessionName == "Réunion – 会议")
        #expect(parsed.text == text)
    }

    @Test func sessionWithoutMediaOrTiming() throws {
        let parsed = try SessionDescription(parsing: "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n")
        #expect(parsed.media.isEmpty)
        #expect(parsed.timings.isEmpty)
        #expect(parsed.text == "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n")
    }

    @Test func mediaWithoutFormatsParses() throws {
        let parsed = try SessionDescription(parsing: sdp("v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "m=audio 0 RTP/AVP"))
        #expect(parsed.media[0].formats.isEmpty)
        #expect(parsed.text.hasSuffix("m=audio 0 RTP/AVP\r\n"))
    }

    @Test func parsesFromByteCollections() throws {
        let bytes = Array(Fixtures.rfc3264Offer.utf8)
        let fromArray = try SessionDescription(parsing: bytes)
        let fromSlice = try SessionDescription(parsing: bytes[...])
        let fromView = try SessionDescription(parsing: Fixtures.rfc3264Offer.utf8)
        #expect(fromArray == fromSlice)
        #expect(fromArray == fromView)
        #expect(fromArray.media.map(\.type) == [.audio, .video])
    }

    @Test func builtDescriptionSerializes() {
        let description = SessionDescription(
            origin: Origin(sessionID: 42, sessionVersion: 7, address: "2001:db8::1"),
            connection: Connection(address: "2001:db8::1"),
            media: [
                MediaDescription(
                    type: .audio, port: 5004, transport: .rtpAVP, formats: ["0"],
                    attributes: [RTPMap(payloadType: 0, encoding: "PCMU", clockRate: 8000).attribute, MediaDirection.sendonly.attribute])
            ])
        #expect(
            description.text
                == sdp(
                    "v=0", "o=- 42 7 IN IP6 2001:db8::1", "s=-", "c=IN IP6 2001:db8::1", "t=0 0",
                    "m=audio 5004 RTP/AVP 0", "a=rtpmap:0 PCMU/8000", "a=sendonly"))
    }

    @Test func originVersionIncrements() {
        let origin = Origin(sessionID: "1", sessionVersion: "199", address: "192.0.2.1")
        #expect(origin.incrementingVersion().sessionVersion == "200")
        #expect(Origin(sessionID: "1", sessionVersion: "99999999999999999999", address: "x").incrementingVersion().sessionVersion
            == "100000000000000000000")
        #expect(origin.incrementingVersion().sessionID == "1")
    }

    @Test func transportProtocolClassification() {
        #expect(TransportProtocol.rtpSAVP.isSecure)
        #expect(TransportProtocol.rtpSAVPF.isSecure)
        #expect(TransportProtocol.udpTLSRTPSAVP.isSecure)
        #expect(!TransportProtocol.rtpAVP.isSecure)
        #expect(!TransportProtocol(rawValue: "udptl").isSecure)
        #expect(TransportProtocol.udpTLSRTPSAVPF.usesDTLS)
        #expect(!TransportProtocol.rtpSAVP.usesDTLS)
        #expect(TransportProtocol.rtpAVPF.isPlainOrSDESRTP)
        #expect(!TransportProtocol.udpTLSRTPSAVP.isPlainOrSDESRTP)
        #expect(!TransportProtocol(rawValue: "udp").isRTP)
    }

    @Test("a body at the size limit parses in linear time")
    func largeValidBodyIsFast() throws {
        var text = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
        for index in 0..<1_000 { text += "a=x-filler-\(index):\(String(repeating: "v", count: 40))\r\n" }
        #expect(text.utf8.count < 65_536)
        let clock = ContinuousClock()
        var parsed: SessionDescription?
        let elapsed = try clock.measure { parsed = try SessionDescription(parsing: text) }
        #expect(parsed?.media[0].attributes.count == 1_000)
        #expect(elapsed < .seconds(1))
    }
}
