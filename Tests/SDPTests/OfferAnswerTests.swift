import Testing

import SDP

private func fixedKeys(_ byte: UInt8) -> @Sendable (Int) -> [UInt8] {
    { count in [UInt8](repeating: byte, count: count) }
}

private func policy(
    _ codecs: [Codec] = [.pcmu, .pcma],
    srtp: SRTPMode = .required,
    suites: [CryptoSuite] = [.aesCM128HMACSHA1_80, .aeadAES128GCM],
    address: String = "10.0.0.1",
    key: UInt8 = 0x11
) -> MediaPolicy {
    MediaPolicy(codecs: codecs, srtp: srtp, cryptoSuites: suites, connectionAddress: address, keyGenerator: fixedKeys(key))
}

private let origin = Origin(username: "outpost", sessionID: 5, sessionVersion: 1, address: "10.0.0.1")

private func answerError(
    _ offer: String, _ policy: MediaPolicy, ports: [UInt16] = [20000, 20002, 20004]
) throws -> NegotiationError? {
    let parsed = try SessionDescription(parsing: offer)
    do {
        _ = try parsed.makeAnswer(policy: policy, localPorts: ports, origin: origin)
        return nil
    } catch {
        return error
    }
}

private func offerText(_ mediaLines: String...) -> String {
    offerText(mediaLines)
}

private func offerText(_ mediaLines: [String]) -> String {
    sdp("v=0", "o=- 1 1 IN IP4 192.0.2.9", "s=-", "c=IN IP4 192.0.2.9", "t=0 0") + mediaLines.map { $0 + "\r\n" }.joined()
}

private let key30 = "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"

@Suite("RFC 3264 offer/answer with SDES")
struct OfferAnswerTests {
    @Test func answersCiscoSRTPOffer() throws {
        let offer = try SessionDescription(parsing: Fixtures.ciscoOffer)
        let result = try offer.makeAnswer(policy: policy(), localPorts: [20000], origin: origin)
        #expect(
            result.answer.text
                == sdp(
                    "v=0",
                    "o=outpost 5 1 IN IP4 10.0.0.1",
                    "s=-",
                    "c=IN IP4 10.0.0.1",
                    "t=0 0",
                    "m=audio 20000 RTP/SAVP 0 101",
                    "a=rtpmap:0 PCMU/8000",
                    "a=rtpmap:101 telephone-event/8000",
                    "a=fmtp:101 0-15",
                    "a=ptime:20",
                    "a=crypto:2 AEAD_AES_128_GCM inline:EREREREREREREREREREREREREREREREREREREQ==",
                    "a=sendrecv"))
        let stream = try #require(result.streams.first)
        #expect(result.streams.count == 1)
        #expect(stream.index == 0)
        #expect(stream.codec == .pcmu)
        #expect(stream.payloadTypes == PayloadTypes(send: 0, receive: 0))
        #expect(stream.telephoneEvent == PayloadTypes(send: 101, receive: 101))
        #expect(stream.remoteTelephoneEvents == .dtmf)
        #expect(stream.remoteAddress == "10.20.30.41")
        #expect(stream.remotePort == 26930)
        #expect(stream.localPort == 20000)
        #expect(stream.direction == .sendrecv)
        let srtp = try #require(stream.srtp)
        #expect(srtp.suite == .aeadAES128GCM)
        #expect(srtp.tag == 2)
        #expect(srtp.localKeySalt == [UInt8](repeating: 0x11, count: 28))
        #expect(srtp.remoteKeySalt.count == 28)
        #expect(srtp.description == "AEAD_AES_128_GCM (tag 2)")

        let reparsed = try SessionDescription(parsing: result.answer.serialized())
        #expect(reparsed == result.answer)
    }

    @Test func localCodecOrderWhenAsked() throws {
        let offer = try SessionDescription(parsing: Fixtures.ciscoOffer)
        var local = policy([.pcma, .pcmu])
        #expect(try offer.makeAnswer(policy: local, localPorts: [20000], origin: origin).streams[0].codec == .pcmu)
        local.preferLocalCodecOrder = true
        #expect(try offer.makeAnswer(policy: local, localPorts: [20000], origin: origin).streams[0].codec == .pcma)
        local.preferLocalCodecOrder = false
        local.codecs = [.g729, .pcma]
        let streams = try offer.makeAnswer(policy: local, localPorts: [20000], origin: origin).streams
        #expect(streams[0].codec.encoding == "PCMA")
        local.preferLocalCodecOrder = true
        let preferred = try offer.makeAnswer(policy: local, localPorts: [20000], origin: origin)
        #expect(preferred.streams[0].codec.encoding == "G729")
        #expect(preferred.answer.media[0].formatParameters(forPayloadType: 18) == "annexb=yes")
    }

    @Test func offererCodecOrderByDefault() throws {
        let offer = try SessionDescription(parsing: Fixtures.baresipOffer)
        let result = try offer.makeAnswer(policy: policy([.pcmu, .opus, .g722]), localPorts: [20000], origin: origin)
        let stream = result.streams[0]
        #expect(stream.codec.encoding == "opus")
        #expect(stream.codec.formatParameters == "stereo=1;sprop-stereo=1;useinbandfec=1")
        #expect(stream.payloadTypes.send == 96)
        #expect(result.answer.media[0].formats == ["96", "101"])
        #expect(result.answer.media[0].attributes.first == SDPAttribute("rtpmap", "96 opus/48000/2"))
        #expect(stream.remoteRTCP?.port == 10003)
    }

    @Test func baresipChannelsOneMatchesCodecWithoutChannels() throws {
        let offer = try SessionDescription(parsing: Fixtures.baresipOffer)
        let result = try offer.makeAnswer(policy: policy([.g722]), localPorts: [20000], origin: origin)
        #expect(result.streams[0].codec == .g722)
        #expect(result.streams[0].srtp?.suite == .aesCM128HMACSHA1_80)
    }

    @Test func rtcpMuxOnlyWhenBothWant() throws {
        let offer = try SessionDescription(parsing: Fixtures.baresipOffer)
        var local = policy()
        #expect(try !offer.makeAnswer(policy: local, localPorts: [20000], origin: origin).answer.media[0].rtcpMux)
        local.rtcpMux = true
        let muxed = try offer.makeAnswer(policy: local, localPorts: [20000], origin: origin)
        #expect(muxed.answer.media[0].rtcpMux)
        #expect(muxed.streams[0].rtcpMux)
        let cisco = try SessionDescription(parsing: Fixtures.ciscoOffer)
        #expect(try !cisco.makeAnswer(policy: local, localPorts: [20000], origin: origin).streams[0].rtcpMux)
    }

    @Test func yealinkBestEffortSRTP() throws {
        let offer = try SessionDescription(parsing: Fixtures.yealinkOffer)
        for mode in [SRTPMode.optional, .required] {
            let result = try offer.makeAnswer(policy: policy(srtp: mode), localPorts: [20000], origin: origin)
            let media = result.answer.media[0]
            #expect(media.transport == .rtpAVP)
            #expect(media.attributes.all(named: "crypto") == [
                SDPAttribute("crypto", "1 AES_CM_128_HMAC_SHA1_80 inline:ERERERERERERERERERERERERERERERERERERERER")
            ])
            #expect(result.streams[0].srtp?.tag == 1)
        }
        let plain = try offer.makeAnswer(policy: policy(srtp: .off), localPorts: [20000], origin: origin)
        #expect(!plain.answer.media[0].attributes.contains(named: "crypto"))
        #expect(plain.streams[0].srtp == nil)
    }

    @Test func suiteFollowsOffererOrderAmongAccepted() throws {
        let offer = try SessionDescription(parsing: Fixtures.yealinkOffer)
        let result = try offer.makeAnswer(
            policy: policy(suites: [.aesCM128HMACSHA1_32, .aesCM128HMACSHA1_80]), localPorts: [20000], origin: origin)
        #expect(result.streams[0].srtp?.suite == .aesCM128HMACSHA1_80)
        let only32 = try offer.makeAnswer(policy: policy(suites: [.aesCM128HMACSHA1_32]), localPorts: [20000], origin: origin)
        #expect(only32.streams[0].srtp?.tag == 2)
        #expect(only32.streams[0].srtp?.suite == .aesCM128HMACSHA1_32)
    }

    @Test func plainOfferWhenSRTPIsRequired() throws {
        let error = try #require(try answerError(Fixtures.rfc3264Offer, policy()))
        #expect(error.code == .srtpRequired)
        #expect(error.streamIndex == 0)
        #expect(error.reason == "SRTP is required but RTP/AVP was offered")
        #expect(error.warningCode == 302)
        #expect(error.description == "stream 0: SRTP is required but RTP/AVP was offered")
    }

    @Test func plainOfferWithPlainPolicy() throws {
        let offer = try SessionDescription(parsing: Fixtures.rfc3264Offer)
        let answerOrigin = Origin(username: "bob", sessionID: "2808844564", sessionVersion: "2808844564", address: "host.biloxi.example.com")
        var local = policy(srtp: .off, address: "host.biloxi.example.com")
        local.ptime = nil
        local.sessionName = ""
        let result = try offer.makeAnswer(policy: local, localPorts: [49174, 49170], origin: answerOrigin)
        #expect(
            result.answer.text
                == sdp(
                    "v=0",
                    "o=bob 2808844564 2808844564 IN IP4 host.biloxi.example.com",
                    "s=",
                    "c=IN IP4 host.biloxi.example.com",
                    "t=0 0",
                    "m=audio 49174 RTP/AVP 0",
                    "a=rtpmap:0 PCMU/8000",
                    "a=sendrecv",
                    "m=video 0 RTP/AVP 31"))
        #expect(result.streams.map(\.index) == [0])
    }

    @Test func noAcceptableSuite() throws {
        let offer = offerText(
            "m=audio 4000 RTP/SAVP 0",
            "a=crypto:1 F8_128_HMAC_SHA1_80 inline:\(key30)",
            "a=crypto:2 AES_256_CM_HMAC_SHA1_80 inline:\(key30)")
        let error = try #require(try answerError(offer, policy()))
        #expect(error.code == .noAcceptableCrypto)
        #expect(
            error.reason
                == "no acceptable crypto suite offered (AES_CM_128_HMAC_SHA1_80, AEAD_AES_128_GCM accepted; F8_128_HMAC_SHA1_80, AES_256_CM_HMAC_SHA1_80 offered)"
        )
        #expect(error.warningCode == 399)
    }

    @Test func secureProfileWithoutCryptoLines() throws {
        let error = try #require(try answerError(offerText("m=audio 4000 RTP/SAVP 0"), policy(srtp: .optional)))
        #expect(error.code == .noAcceptableCrypto)
        #expect(error.reason == "no a=crypto line offered (AES_CM_128_HMAC_SHA1_80, AEAD_AES_128_GCM accepted)")
    }

    @Test func mkiIsRefusedAndExplained() throws {
        let error = try #require(try answerError(Fixtures.rfc4568Offer, policy([.pcmu, .pcma, .g722])))
        #expect(error.code == .noAcceptableCrypto)
        #expect(error.streamIndex == 0)
        #expect(error.reason == "no acceptable a=crypto line offered: crypto tag 1 (AES_CM_128_HMAC_SHA1_80) uses an MKI, which is not supported")
    }

    @Test func skipsMKIAndWeakeningLinesForALaterGoodOne() throws {
        let offer = offerText(
            "m=audio 4000 RTP/SAVP 0",
            "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:\(key30)|2^20|1:4",
            "a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:\(key30) UNENCRYPTED_SRTP",
            "a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:\(key30) KDR=1",
            "a=crypto:4 AES_CM_128_HMAC_SHA1_80 inline:broken!",
            "a=crypto:5 AES_CM_128_HMAC_SHA1_80 inline:\(key30)|2^31 KDR=0 WSH=128")
        let parsed = try SessionDescription(parsing: offer)
        let result = try parsed.makeAnswer(policy: policy(), localPorts: [20000], origin: origin)
        #expect(result.streams[0].srtp?.tag == 5)
        #expect(result.answer.media[0].attributes.first(named: "crypto")?.value
            == "5 AES_CM_128_HMAC_SHA1_80 inline:ERERERERERERERERERERERERERERERERERERERER")

        let withoutGood = offerText(
            "m=audio 4000 RTP/SAVP 0",
            "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:\(key30)|2^20|1:4",
            "a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:\(key30) UNENCRYPTED_SRTP",
            "a=crypto:4 AES_CM_128_HMAC_SHA1_80 inline:AAAA")
        let error = try #require(try answerError(withoutGood, policy()))
        #expect(
            error.reason
                == "no acceptable a=crypto line offered: crypto tag 1 (AES_CM_128_HMAC_SHA1_80) uses an MKI, which is not supported; crypto tag 2 (AES_CM_128_HMAC_SHA1_80) has session parameter 'UNENCRYPTED_SRTP', which is not supported; malformed a=crypto: key parameter 1: inline key||salt is 3 bytes, AES_CM_128_HMAC_SHA1_80 needs 30"
        )
    }

    @Test func srtpOfferToPlainLeg() throws {
        let error = try #require(try answerError(Fixtures.ciscoOffer, policy(srtp: .off)))
        #expect(error.code == .srtpDisabled)
        #expect(error.reason == "RTP/SAVP offered but SRTP is disabled for this leg")
    }

    @Test func directionIsComplemented() throws {
        let cases: [(offered: String, answered: MediaDirection)] = [
            ("a=sendonly", .recvonly), ("a=recvonly", .sendonly), ("a=inactive", .inactive), ("a=sendrecv", .sendrecv),
        ]
        for (offered, answered) in cases {
            let offer = try SessionDescription(parsing: offerText("m=audio 4000 RTP/AVP 0", offered))
            let result = try offer.makeAnswer(policy: policy(srtp: .off), localPorts: [20000], origin: origin)
            #expect(result.answer.media[0].direction == answered)
            #expect(result.streams[0].direction == answered)
        }
        let sessionLevel = try SessionDescription(
            parsing: sdp("v=0", "o=- 1 1 IN IP4 x", "s=-", "c=IN IP4 192.0.2.9", "t=0 0", "a=sendonly", "m=audio 4000 RTP/AVP 8"))
        let result = try sessionLevel.makeAnswer(policy: policy(srtp: .off), localPorts: [20000], origin: origin)
        #expect(result.answer.media[0].direction == .recvonly)
        #expect(result.answer.direction == nil)
    }

    @Test func telephoneEventHandling() throws {
        let wideband = offerText(
            "m=audio 4000 RTP/AVP 96 101 102",
            "a=rtpmap:96 opus/48000/2",
            "a=rtpmap:101 telephone-event/8000",
            "a=rtpmap:102 telephone-event/48000",
            "a=fmtp:102 0-16")
        let offer = try SessionDescription(parsing: wideband)
        let result = try offer.makeAnswer(policy: policy([.opus], srtp: .off), localPorts: [20000], origin: origin)
        #expect(result.answer.media[0].formats == ["96", "102"])
        #expect(result.streams[0].telephoneEvent == PayloadTypes(send: 102, receive: 102))
        #expect(result.streams[0].remoteTelephoneEvents?.contains(16) == true)

        var noEvents = policy([.opus], srtp: .off)
        noEvents.telephoneEvent = false
        let without = try offer.makeAnswer(policy: noEvents, localPorts: [20000], origin: origin)
        #expect(without.answer.media[0].formats == ["96"])
        #expect(without.streams[0].telephoneEvent == nil)

        let none = try SessionDescription(parsing: offerText("m=audio 4000 RTP/AVP 0"))
        #expect(try none.makeAnswer(policy: policy(srtp: .off), localPorts: [20000], origin: origin).answer.media[0].formats == ["0"])
    }

    @Test func noAcceptableCodec() throws {
        let offer = offerText("m=audio 4000 RTP/AVP 18 97 98", "a=rtpmap:97 iLBC/8000")
        let error = try #require(try answerError(offer, policy(srtp: .off)))
        #expect(error.code == .noAcceptableCodec)
        #expect(error.reason == "no acceptable codec offered (PCMU/8000, PCMA/8000 accepted; G729/8000, iLBC/8000, 98 offered)")
        #expect(error.warningCode == 305)
    }

    @Test func codecListInWarningIsBounded() throws {
        let formats = (96...127).map(String.init).joined(separator: " ")
        let error = try #require(try answerError(offerText("m=audio 4000 RTP/AVP \(formats)"), policy(srtp: .off)))
        #expect(error.reason.hasSuffix("96, 97, 98, 99, 100, 101, 102, 103, … offered)"))
    }

    @Test("a hostile offer or answer is handled in linear time")
    func hostileFormatListsAreLinear() throws {
        let formats = (0..<10_000).map { String(96 + $0 % 32) }.joined(separator: " ")
        let maps = (0..<1_000).map { "a=rtpmap:\(96 + $0 % 32) X\($0)/8000" }
        let body = offerText(["m=audio 4000 RTP/AVP \(formats)"] + maps)
        #expect(body.utf8.count < 65_536)
        let hostile = try SessionDescription(parsing: body)
        let clock = ContinuousClock()
        let answering = clock.measure {
            #expect(throws: NegotiationError.self) {
                try hostile.makeAnswer(policy: policy(srtp: .off), localPorts: [20000], origin: origin)
            }
        }
        #expect(answering < .milliseconds(500))

        let ours = policy(srtp: .off)
        let offer = try SessionDescription.makeOffer(policy: ours, localPort: 20000, origin: origin)
        let reading = clock.measure {
            #expect(throws: NegotiationError.self) { try offer.negotiatedStreams(answer: hostile, policy: ours) }
        }
        #expect(reading < .milliseconds(500))
    }

    @Test func streamsThatCannotBeCarriedAreRefusedWithPortZero() throws {
        let offer = try SessionDescription(
            parsing: offerText(
                "m=video 5000 RTP/AVP 31",
                "m=audio 5002 UDP/TLS/RTP/SAVPF 0",
                "m=image 5004 udptl t38",
                "m=audio 5006 RTP/AVP 8"))
        let result = try offer.makeAnswer(
            policy: policy(srtp: .off), localPorts: [30000, 30002, 30004, 30006], origin: origin)
        #expect(result.answer.media.map(\.port) == [0, 0, 0, 30006])
        #expect(result.answer.media.map(\.type) == [.video, .audio, .image, .audio])
        #expect(result.answer.media.map(\.formats) == [["31"], ["0"], ["t38"], ["8"]])
        #expect(result.streams.map(\.index) == [3])
    }

    @Test func refusalReasonPrefersTheAudioStream() throws {
        let error = try #require(
            try answerError(offerText("m=video 5000 RTP/AVP 31", "m=audio 5002 UDP/TLS/RTP/SAVPF 0"), policy(srtp: .off)))
        #expect(error.code == .unsupportedTransport)
        #expect(error.streamIndex == 1)
        #expect(error.reason == "DTLS-SRTP ('UDP/TLS/RTP/SAVPF') is not supported, only SDES (a=crypto)")
        let videoOnly = try #require(try answerError(offerText("m=video 5000 RTP/AVP 31"), policy(srtp: .off)))
        #expect(videoOnly.code == .unsupportedMediaType)
        #expect(videoOnly.reason == "media type 'video' is not supported, only audio")
        #expect(videoOnly.warningCode == 304)
    }

    @Test func offererDisabledStreamsNeedNoPort() throws {
        let offer = try SessionDescription(parsing: Fixtures.outOfOrderOffer)
        let result = try offer.makeAnswer(policy: policy(srtp: .off), localPorts: [20000], origin: origin)
        #expect(result.answer.media.map(\.port) == [20000, 0])
        let allDisabled = try SessionDescription(parsing: offerText("m=audio 0 RTP/AVP 0"))
        let empty = try allDisabled.makeAnswer(policy: policy(srtp: .off), localPorts: [], origin: origin)
        #expect(empty.streams.isEmpty)
        #expect(empty.answer.media.map(\.port) == [0])
    }

    @Test func missingLocalPortRefusesTheStream() throws {
        let error = try #require(try answerError(offerText("m=audio 4000 RTP/AVP 0"), policy(srtp: .off), ports: []))
        #expect(error.code == .noLocalPort)
        let zero = try #require(try answerError(offerText("m=audio 4000 RTP/AVP 0"), policy(srtp: .off), ports: [0]))
        #expect(zero.code == .noLocalPort)
    }

    @Test func missingConnectionIsRefused() throws {
        let offer = sdp("v=0", "o=- 1 1 IN IP4 x", "s=-", "t=0 0", "m=audio 4000 RTP/AVP 0")
        let error = try #require(try answerError(offer, policy(srtp: .off)))
        #expect(error.code == .invalidDescription)
        #expect(error.reason == "no connection address (c=) for the stream")
    }

    @Test func brokenKeyGeneratorIsAnError() throws {
        let offer = try SessionDescription(parsing: Fixtures.yealinkOffer)
        let broken = MediaPolicy(codecs: [.pcmu], srtp: .required, connectionAddress: "10.0.0.1", keyGenerator: { _ in [1, 2, 3] })
        #expect(throws: NegotiationError(code: .keyGeneration, reason: "the key generator returned 3 bytes, 30 were asked for")) {
            try offer.makeAnswer(policy: broken, localPorts: [20000], origin: origin)
        }
    }

    @Test func invalidPolicies() throws {
        let offer = try SessionDescription(parsing: Fixtures.yealinkOffer)
        #expect(throws: NegotiationError(code: .invalidPolicy, reason: "the media policy lists no codec")) {
            try offer.makeAnswer(policy: policy([]), localPorts: [20000], origin: origin)
        }
        #expect(throws: NegotiationError(code: .invalidPolicy, reason: "SRTP is enabled but the media policy lists no supported crypto suite")) {
            try offer.makeAnswer(policy: policy(suites: [.other("F8_128_HMAC_SHA1_80")]), localPorts: [20000], origin: origin)
        }
    }

    @Test func reInviteKeepsOurKeyForTheSameSuite() throws {
        let offer = try SessionDescription(parsing: Fixtures.ciscoOffer)
        let first = try offer.makeAnswer(policy: policy(key: 0x33), localPorts: [20000], origin: origin)
        // A generator that would fail proves the key was reused rather than regenerated.
        let noKeys = MediaPolicy(
            codecs: [.pcmu], srtp: .required, cryptoSuites: [.aesCM128HMACSHA1_80, .aeadAES128GCM],
            connectionAddress: "10.0.0.1", keyGenerator: { _ in [] })
        let second = try offer.makeAnswer(
            policy: noKeys, localPorts: [20000], origin: origin.incrementingVersion(), reusingKeysFrom: first.streams)
        #expect(second.streams[0].srtp?.localKeySalt == first.streams[0].srtp?.localKeySalt)
        #expect(second.answer.origin.sessionVersion == "2")
    }

    @Test func buildsOffers() throws {
        let required = try SessionDescription.makeOffer(
            policy: policy([.pcmu, .pcma, .opus]), localPort: 20000, origin: origin)
        #expect(
            required.text
                == sdp(
                    "v=0",
                    "o=outpost 5 1 IN IP4 10.0.0.1",
                    "s=-",
                    "c=IN IP4 10.0.0.1",
                    "t=0 0",
                    "m=audio 20000 RTP/SAVP 0 8 96 101 97",
                    "a=rtpmap:0 PCMU/8000",
                    "a=rtpmap:8 PCMA/8000",
                    "a=rtpmap:96 opus/48000/2",
                    "a=rtpmap:101 telephone-event/8000",
                    "a=fmtp:101 0-15",
                    "a=rtpmap:97 telephone-event/48000",
                    "a=fmtp:97 0-15",
                    "a=ptime:20",
                    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:ERERERERERERERERERERERERERERERERERERERER",
                    "a=crypto:2 AEAD_AES_128_GCM inline:EREREREREREREREREREREREREREREREREREREQ==",
                    "a=sendrecv"))
        let optional = try SessionDescription.makeOffer(policy: policy(srtp: .optional), localPort: 20000, origin: origin)
        #expect(optional.media[0].transport == .rtpAVP)
        #expect(try optional.media[0].cryptoAttributes().map(\.tag) == [1, 2])
        let plain = try SessionDescription.makeOffer(policy: policy(srtp: .off), localPort: 20000, origin: origin)
        #expect(plain.media[0].transport == .rtpAVP)
        #expect(!plain.media[0].attributes.contains(named: "crypto"))
        #expect(try SessionDescription(parsing: required.serialized()) == required)
    }

    @Test func offerAvoidsPayloadTypeCollisions() throws {
        var local = policy([Codec(encoding: "L16", clockRate: 8000, staticPayloadType: 101), .pcmu], srtp: .off)
        local.telephoneEventPayloadType = 101
        let offer = try SessionDescription.makeOffer(policy: local, localPort: 20000, origin: origin)
        #expect(offer.media[0].formats == ["96", "0", "101"])
        #expect(offer.media[0].rtpMap(forPayloadType: 96)?.encoding == "L16")
        #expect(offer.media[0].telephoneEvents.map(\.payloadType) == [101])
    }

    @Test("offer → answer → negotiated streams agree on both sides, each leg with its own policy")
    func fullExchange() throws {
        let ours = policy([.pcma, .pcmu], srtp: .required, suites: [.aeadAES256GCM, .aesCM128HMACSHA1_80], key: 0x11)
        let offer = try SessionDescription.makeOffer(policy: ours, localPort: 20000, origin: origin)

        var theirs = policy([.pcmu, .pcma], srtp: .optional, suites: [.aesCM128HMACSHA1_80], address: "192.0.2.50", key: 0x22)
        theirs.preferLocalCodecOrder = true
        let received = try SessionDescription(parsing: offer.serialized())
        let answered = try received.makeAnswer(
            policy: theirs, localPorts: [40000], origin: Origin(sessionID: 9, sessionVersion: 9, address: "192.0.2.50"))

        let streams = try offer.negotiatedStreams(answer: try SessionDescription(parsing: answered.answer.serialized()), policy: ours)
        let local = try #require(streams.first)
        let remote = try #require(answered.streams.first)
        #expect(local.codec.encoding == "PCMU")
        #expect(remote.codec.encoding == "PCMU")
        #expect(local.payloadTypes == PayloadTypes(send: 0, receive: 0))
        #expect(local.telephoneEvent == PayloadTypes(send: 101, receive: 101))
        #expect(local.remoteAddress == "192.0.2.50")
        #expect(local.remotePort == 40000)
        #expect(remote.remotePort == 20000)
        let localSRTP = try #require(local.srtp)
        let remoteSRTP = try #require(remote.srtp)
        #expect(localSRTP.suite == .aesCM128HMACSHA1_80)
        #expect(localSRTP.tag == 2)
        #expect(localSRTP.localKeySalt == remoteSRTP.remoteKeySalt)
        #expect(localSRTP.remoteKeySalt == remoteSRTP.localKeySalt)
        #expect(localSRTP.localKeySalt == [UInt8](repeating: 0x11, count: 30))
        #expect(localSRTP.remoteKeySalt == [UInt8](repeating: 0x22, count: 30))
    }

    @Test func answerDirectionIsReadFromOurSide() throws {
        let ours = policy(srtp: .off)
        let offer = try SessionDescription.makeOffer(policy: ours, localPort: 20000, origin: origin)
        let answer = try SessionDescription(
            parsing: sdp("v=0", "o=- 1 1 IN IP4 x", "s=-", "c=IN IP4 192.0.2.7", "t=0 0", "m=audio 5000 RTP/AVP 8 101",
                         "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-11", "a=recvonly"))
        let stream = try #require(try offer.negotiatedStreams(answer: answer, policy: ours).first)
        #expect(stream.direction == .sendonly)
        #expect(stream.codec == .pcma)
        #expect(stream.remoteTelephoneEvents == TelephoneEventSet([0...11]))
    }

    @Test func unusableAnswers() throws {
        let ours = policy(srtp: .required)
        let offer = try SessionDescription.makeOffer(policy: ours, localPort: 20000, origin: origin)
        func error(_ answer: String) throws -> NegotiationError? {
            let parsed = try SessionDescription(parsing: answer)
            do {
                _ = try offer.negotiatedStreams(answer: parsed, policy: ours)
                return nil
            } catch {
                return error
            }
        }
        let head = sdp("v=0", "o=- 1 1 IN IP4 x", "s=-", "c=IN IP4 192.0.2.7", "t=0 0")
        #expect(try error(head)?.reason == "the answer has 0 m= line(s), the offer had 1")
        #expect(try error(head + sdp("m=audio 0 RTP/SAVP 0"))?.reason == "the answer refused every stream")
        #expect(try error(head + sdp("m=audio 5000 RTP/SAVP 0"))?.reason
            == "the answer has no a=crypto line")
        #expect(try error(head + sdp("m=audio 5000 RTP/SAVP 0", "a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:\(key30)"))?.reason
            == "the answer has no usable a=crypto line: crypto tag 7 (AES_CM_128_HMAC_SHA1_80) does not answer one of the offered lines")
        #expect(try error(head + sdp("m=audio 5000 RTP/SAVP 0", "a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:\(key30)"))?.reason
            == "the answer chose crypto suites that were not offered (AES_CM_128_HMAC_SHA1_32)")
        #expect(try error(head + sdp("m=audio 5000 RTP/SAVP 9", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:\(key30)"))?.code
            == .noAcceptableCodec)
        #expect(try error(head + sdp("m=video 5000 RTP/SAVP 31"))?.code == .invalidDescription)
    }
}
