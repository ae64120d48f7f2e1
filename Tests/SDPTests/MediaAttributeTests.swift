import Testing

import SDP

@Suite("Typed media attributes")
struct MediaAttributeTests {
    private func firstMedia(_ text: String) throws -> MediaDescription {
        try #require(try SessionDescription(parsing: text).media.first)
    }

    @Test func rtpMapsOfCiscoOffer() throws {
        let audio = try firstMedia(Fixtures.ciscoOffer)
        let maps = audio.rtpMaps
        #expect(maps.count == 8)
        #expect(maps[0] == RTPMap(payloadType: 114, encoding: "opus", clockRate: 48000, channels: 2))
        #expect(audio.rtpMap(forPayloadType: 18) == RTPMap(payloadType: 18, encoding: "G729", clockRate: 8000))
        #expect(audio.formatParameters(forPayloadType: 18) == "annexb=yes")
        #expect(audio.formatParameters(forPayloadType: 116) == "mode=20")
        #expect(audio.formatParameters(forPayloadType: 0) == nil)
        #expect(audio.payloadTypes == [114, 9, 124, 0, 8, 116, 18, 101])
        #expect(audio.isSecure)
        #expect(audio.direction == .sendrecv)
        #expect(audio.ptime == nil)
        #expect(!audio.rtcpMux)
    }

    @Test func staticPayloadTypesWithoutRtpmap() throws {
        let audio = try firstMedia(sdp("v=0", "o=- 1 1 IN IP4 x", "s=-", "t=0 0", "m=audio 4000 RTP/AVP 0 8 9 18 13 96"))
        #expect(audio.rtpMaps.isEmpty)
        #expect(audio.rtpMap(forPayloadType: 0)?.encoding == "PCMU")
        #expect(audio.rtpMap(forPayloadType: 8)?.encoding == "PCMA")
        #expect(audio.rtpMap(forPayloadType: 9) == RTPMap(payloadType: 9, encoding: "G722", clockRate: 8000))
        #expect(audio.rtpMap(forPayloadType: 13)?.encoding == "CN")
        #expect(audio.rtpMap(forPayloadType: 96) == nil)
        #expect(RTPMap.staticPayloadType(10)?.channels == 2)
        #expect(RTPMap.staticPayloadType(2) == nil)
    }

    @Test func explicitRtpmapOverridesStaticAssignment() throws {
        let audio = try firstMedia(
            sdp("v=0", "o=- 1 1 IN IP4 x", "s=-", "t=0 0", "m=audio 4000 RTP/AVP 8", "a=rtpmap:8 PCMA/16000"))
        #expect(audio.rtpMap(forPayloadType: 8)?.clockRate == 16000)
    }

    @Test func rtpmapParsing() throws {
        #expect(try RTPMap(parsing: "96 opus/48000/2") == RTPMap(payloadType: 96, encoding: "opus", clockRate: 48000, channels: 2))
        #expect(try RTPMap(parsing: "101 telephone-event/8000").value == "101 telephone-event/8000")
        #expect(try RTPMap(parsing: "0 PCMU/8000/1").channels == 1)
        #expect(throws: SDPAttributeError(attribute: "rtpmap", reason: "payload type '128' is not a number in 0...127")) {
            try RTPMap(parsing: "128 PCMU/8000")
        }
        #expect(throws: SDPAttributeError(attribute: "rtpmap", reason: "clock rate '0' is not a positive number")) {
            try RTPMap(parsing: "0 PCMU/0")
        }
        #expect(throws: SDPAttributeError(attribute: "rtpmap", reason: "expected '<encoding>/<clock rate>[/<channels>]', found 'PCMU'")) {
            try RTPMap(parsing: "0 PCMU")
        }
        #expect(throws: SDPAttributeError(attribute: "rtpmap", reason: "channel count '0' is not a number in 1...255")) {
            try RTPMap(parsing: "0 PCMU/8000/0")
        }
    }

    @Test func malformedRtpmapIsSkippedNotFatal() throws {
        let audio = try firstMedia(
            sdp("v=0", "o=- 1 1 IN IP4 x", "s=-", "t=0 0", "m=audio 4000 RTP/AVP 96 97",
                "a=rtpmap:96 broken", "a=rtpmap:97 opus/48000/2"))
        #expect(audio.rtpMaps.map(\.payloadType) == [97])
        #expect(audio.rtpMap(forPayloadType: 96) == nil)
    }

    @Test func baresipRtcpAndMux() throws {
        let audio = try firstMedia(Fixtures.baresipOffer)
        #expect(audio.rtcp == RTCPAttribute(port: 10003, connection: Connection(addressType: "IP4", address: "192.168.1.10")))
        #expect(audio.rtcpMux)
        #expect(audio.ptime == 20)
        #expect(audio.rtpMap(forPayloadType: 9)?.channels == 1)
    }

    @Test func rtcpAttributeForms() throws {
        #expect(try RTCPAttribute(parsing: "53020") == RTCPAttribute(port: 53020))
        #expect(try RTCPAttribute(parsing: "53020 IN IP6 2001:db8::1").value == "53020 IN IP6 2001:db8::1")
        #expect(throws: SDPAttributeError(attribute: "rtcp", reason: "port '65536' is not a number in 0...65535")) {
            try RTCPAttribute(parsing: "65536")
        }
        #expect(throws: SDPAttributeError.self) { try RTCPAttribute(parsing: "5000 IN IP4") }
    }

    @Test func ptimeAndMaxptime() throws {
        let audio = try firstMedia(
            sdp("v=0", "o=- 1 1 IN IP4 x", "s=-", "t=0 0", "m=audio 4000 RTP/AVP 0", "a=ptime:30.0", "a=maxptime:60"))
        #expect(audio.ptime == 30)
        #expect(audio.maxptime == 60)
        let bad = try firstMedia(sdp("v=0", "o=- 1 1 IN IP4 x", "s=-", "t=0 0", "m=audio 4000 RTP/AVP 0", "a=ptime:abc"))
        #expect(bad.ptime == nil)
    }

    @Test func directionDefaultsFromSessionLevel() throws {
        let text = sdp(
            "v=0", "o=- 1 1 IN IP4 x", "s=-", "t=0 0", "a=sendonly",
            "m=audio 4000 RTP/AVP 0",
            "m=audio 4002 RTP/AVP 0", "a=inactive")
        let session = try SessionDescription(parsing: text)
        #expect(session.direction == .sendonly)
        #expect(session.media[0].direction == nil)
        #expect(session.direction(of: session.media[0]) == .sendonly)
        #expect(session.direction(of: session.media[1]) == .inactive)
        let plain = try SessionDescription(parsing: Fixtures.rfc3264Offer)
        #expect(plain.direction(of: plain.media[0]) == .sendrecv)
    }

    @Test func directionComplement() {
        #expect(MediaDirection.sendonly.reversed == .recvonly)
        #expect(MediaDirection.recvonly.reversed == .sendonly)
        #expect(MediaDirection.sendrecv.reversed == .sendrecv)
        #expect(MediaDirection.inactive.reversed == .inactive)
        #expect(MediaDirection.sendonly.sends && !MediaDirection.sendonly.receives)
    }

    @Test func telephoneEventWithEvents() throws {
        let text = sdp(
            "v=0", "o=- 1 1 IN IP4 x", "s=-", "t=0 0",
            "m=audio 4000 RTP/AVP 96 0 101 102",
            "a=rtpmap:96 opus/48000/2",
            "a=rtpmap:101 telephone-event/48000",
            "a=fmtp:101 0-16",
            "a=rtpmap:102 TELEPHONE-EVENT/8000",
            "a=fmtp:102 0-15,66,70")
        let audio = try firstMedia(text)
        #expect(audio.telephoneEvents.map(\.payloadType) == [101, 102])
        let narrowband = try #require(audio.telephoneEvent(clockRate: 8000))
        #expect(narrowband.payloadType == 102)
        #expect(narrowband.events == TelephoneEventSet([0...15, 66...66, 70...70]))
        #expect(narrowband.events.contains(66))
        #expect(!narrowband.events.contains(67))
        #expect(audio.telephoneEvent(clockRate: 48000)?.events.contains(16) == true)
        #expect(audio.telephoneEvent()?.payloadType == 101)
        #expect(audio.telephoneEvent(clockRate: 16000)?.payloadType == 101)
    }

    @Test func telephoneEventWithoutFmtpMeansDTMF() throws {
        let audio = try firstMedia(
            sdp("v=0", "o=- 1 1 IN IP4 x", "s=-", "t=0 0", "m=audio 4000 RTP/AVP 0 101", "a=rtpmap:101 telephone-event/8000"))
        #expect(audio.telephoneEvent()?.events == .dtmf)
    }

    @Test func telephoneEventNotOnTheMLineIsIgnored() throws {
        let audio = try firstMedia(
            sdp("v=0", "o=- 1 1 IN IP4 x", "s=-", "t=0 0", "m=audio 4000 RTP/AVP 0", "a=rtpmap:101 telephone-event/8000"))
        #expect(audio.telephoneEvents.isEmpty)
    }

    @Test func eventSetParsing() throws {
        #expect(try TelephoneEventSet(parsing: "0-15").description == "0-15")
        #expect(try TelephoneEventSet(parsing: "0-11, 16").description == "0-11,16")
        #expect(throws: SDPAttributeError.self) { try TelephoneEventSet(parsing: "15-0") }
        #expect(throws: SDPAttributeError.self) { try TelephoneEventSet(parsing: "0-256") }
        #expect(throws: SDPAttributeError.self) { try TelephoneEventSet(parsing: "0,,1") }
        #expect(throws: SDPAttributeError.self) { try TelephoneEventSet(parsing: "1-2-3") }
    }
}
