import Media
import NIOCore
import RTP
import SDP
import SRTP
import Testing

@Suite("Media relay: re-encryption, interworking and payload mapping over loopback")
struct RelayForwardingTests {
    @Test func srtpIsDecryptedAndReEncryptedWithTheOtherLegsKeyBothWays() async throws {
        try await withRelay { fixture in
            let phoneA = try UDPPeer()
            let phoneB = try UDPPeer()
            let keyA = try RelayFixture.key(.aesCM128HMACSHA1_80)
            let keyB = try RelayFixture.key(.aeadAES128GCM)
            let call = try await fixture.relay.allocate(callID: "srtp", legs: 2)
            let localA = try await call.update(
                leg: 0, RelayFixture.parameters(phoneA, security: .srtp(outboundSuite: .aesCM128HMACSHA1_80, peerKey: keyA)))
            let localB = try await call.update(
                leg: 1, RelayFixture.parameters(phoneB, security: .srtp(outboundSuite: .aeadAES128GCM, peerKey: keyB)))
            #expect(localA.outboundKey?.suite == .aesCM128HMACSHA1_80)
            #expect(localB.outboundKey?.suite == .aeadAES128GCM)
            #expect(localA.outboundKey != keyA && localB.outboundKey != keyB && localA.outboundKey != localB.outboundKey)

            let sendA = try SRTPSession(key: keyA, direction: .outbound)
            let receiveB = try SRTPSession(key: try #require(localB.outboundKey), direction: .inbound)
            let plain = (0..<20).map { RelayFixture.rtp(sequence: UInt16(1_000 + $0)) }
            for packet in plain { phoneA.send(try sendA.protect(rtp: packet), to: call.ports[0]) }
            let atB = phoneB.receiveAll()
            #expect(atB.count == 20)
            for (received, sent) in zip(atB, plain) {
                #expect(received.count == sent.count + 16, "AEAD_AES_128_GCM adds a 16-byte tag")
                #expect(Array(received[12..<sent.count]) != Array(sent[12...]), "the payload left the relay encrypted")
                #expect(try receiveB.unprotect(srtp: received) == sent)
            }

            let sendB = try SRTPSession(key: keyB, direction: .outbound)
            let receiveA = try SRTPSession(key: try #require(localA.outboundKey), direction: .inbound)
            let back = (0..<5).map { RelayFixture.rtp(sequence: UInt16(7 + $0), ssrc: 0xBBBB) }
            for packet in back { phoneB.send(try sendB.protect(rtp: packet), to: call.ports[1]) }
            let atA = phoneA.receiveAll()
            #expect(try atA.map { try receiveA.unprotect(srtp: $0) } == back)

            let statistics = try await call.statistics()
            #expect(statistics.legs[0].inbound.packets == 20 && statistics.legs[1].outbound.packets == 20)
            #expect(statistics.legs[1].inbound.packets == 5 && statistics.legs[0].outbound.packets == 5)
            #expect(statistics.legs.allSatisfy { $0.inbound.authenticationFailures == 0 && $0.encrypted })
            await call.release()
        }
    }

    @Test func rtpToSRTPInterworkingEncryptsTowardsTheSecureLegOnly() async throws {
        try await withRelay { fixture in
            let plainPhone = try UDPPeer()
            let securePhone = try UDPPeer()
            let secureKey = try RelayFixture.key(.aesCM128HMACSHA1_32)
            let call = try await fixture.relay.allocate(callID: "interwork", legs: 2)
            _ = try await call.update(leg: 0, RelayFixture.parameters(plainPhone, security: .plain))
            let secure = try await call.update(
                leg: 1, RelayFixture.parameters(securePhone, security: .srtp(outboundSuite: .aesCM128HMACSHA1_32, peerKey: secureKey)))
            let receiveSecure = try SRTPSession(key: try #require(secure.outboundKey), direction: .inbound)

            let packet = RelayFixture.rtp(sequence: 42)
            plainPhone.send(packet, to: call.ports[0])
            let encrypted = try #require(securePhone.receive())
            #expect(encrypted.bytes.count == packet.count + 4)
            #expect(encrypted.fromPort == call.ports[1], "media leaves from the leg's own port (symmetric RTP)")
            #expect(try receiveSecure.unprotect(srtp: encrypted.bytes) == packet)

            let sendSecure = try SRTPSession(key: secureKey, direction: .outbound)
            let reply = RelayFixture.rtp(sequence: 9, ssrc: 0x5EC)
            securePhone.send(try sendSecure.protect(rtp: reply), to: call.ports[1])
            #expect(plainPhone.receive()?.bytes == reply)

            // Clear RTP towards the secure leg's port is never relayed: it cannot authenticate.
            securePhone.send(RelayFixture.rtp(sequence: 10, ssrc: 0x5EC), to: call.ports[1])
            #expect(plainPhone.receive(timeout: .milliseconds(300)) == nil)
            let statistics = try await call.statistics()
            #expect(statistics.legs[1].inbound.authenticationFailures == 1)
            await call.release()
        }
    }

    @Test func plainRTPIsRelayedWithPayloadTypesMappedAndEventsReportedOnce() async throws {
        try await withRelay { fixture in
            let phoneA = try UDPPeer()
            let phoneB = try UDPPeer()
            let call = try await fixture.relay.allocate(callID: "dtmf", legs: 2)
            _ = try await call.update(leg: 0, RelayFixture.parameters(phoneA, security: .plain, telephoneEvent: 101))
            _ = try await call.update(leg: 1, RelayFixture.parameters(phoneB, security: .plain, telephoneEvent: 96))

            // Digit 5 over three packets of one event, the end packet sent three times (RFC 4733 §2.5.1.4).
            let durations: [(UInt16, Bool)] = [(160, false), (320, false), (480, true), (480, true), (480, true)]
            for (index, (duration, end)) in durations.enumerated() {
                let header = RTPHeader(marker: index == 0, payloadType: 101, sequenceNumber: UInt16(200 + index), timestamp: 8_000, ssrc: 0xD7)
                let event = TelephoneEvent(event: 5, isEnd: end, volume: 10, duration: duration)
                phoneA.send(RTPPacket(header: header, payload: event.serialized()).serialized(), to: call.ports[0])
            }
            let atB = phoneB.receiveAll()
            #expect(atB.count == 5)
            let headers = try atB.map { try RTPHeader(parsing: $0) }
            #expect(headers.allSatisfy { $0.payloadType == 96 }, "telephone-event 101 on leg 0 is 96 on leg 1")
            #expect(headers.map(\.sequenceNumber) == Array(200...204))

            let reported = fixture.events.compactMap { event -> MediaTelephoneEvent? in
                if case .telephoneEvent(_, 0, let notice) = event { return notice }
                return nil
            }
            #expect(reported.map(\.event) == [5, 5])
            #expect(reported.map(\.ended) == [false, true])
            #expect(reported.last?.durationMilliseconds == 60)

            // A codec leg 1 did not negotiate is not relayed.
            phoneA.send(RelayFixture.rtp(sequence: 300, payloadType: 18), to: call.ports[0])
            #expect(phoneB.receive(timeout: .milliseconds(300)) == nil)
            let statistics = try await call.statistics()
            #expect(statistics.legs[0].inbound.dropped == 1)
            #expect(statistics.legs[0].inbound.telephoneEvents == 1)
            await call.release()
        }
    }

    @Test func injectedEventsContinueTheStreamAndShiftTheFollowingSequenceNumbers() async throws {
        try await withRelay { fixture in
            let phoneA = try UDPPeer()
            let phoneB = try UDPPeer()
            let keyB = try RelayFixture.key(.aesCM128HMACSHA1_80)
            let call = try await fixture.relay.allocate(callID: "inject", legs: 2)
            _ = try await call.update(leg: 0, RelayFixture.parameters(phoneA, security: .plain))
            let localB = try await call.update(
                leg: 1, RelayFixture.parameters(phoneB, security: .srtp(outboundSuite: .aesCM128HMACSHA1_80, peerKey: keyB), telephoneEvent: 96))
            let receiveB = try SRTPSession(key: try #require(localB.outboundKey), direction: .inbound)

            phoneA.send(RelayFixture.rtp(sequence: 500), to: call.ports[0])
            _ = try #require(phoneB.receive())
            try await call.sendTelephoneEvent(leg: 1, event: 11, duration: .milliseconds(120))
            let events = try phoneB.receiveAll(quiet: .milliseconds(400)).map { try receiveB.unprotect(srtp: $0) }
            let parsed = try events.map { try RTPPacket(parsing: $0) }
            #expect(parsed.allSatisfy { $0.header.payloadType == 96 && $0.header.ssrc == 0x1234_5678 })
            #expect(parsed.map(\.header.sequenceNumber) == (0..<parsed.count).map { UInt16(501 + $0) })
            #expect(parsed.first?.header.marker == true)
            let decoded = try parsed.map { packet in try packet.payload.withUnsafeBytes { try TelephoneEvent(parsing: $0) } }
            #expect(decoded.allSatisfy { $0.event == 11 })
            #expect(decoded.suffix(3).allSatisfy(\.isEnd) && decoded.filter(\.isEnd).count == 3)
            #expect(decoded.last?.duration == 960)

            // The next forwarded packet follows the injected ones.
            phoneA.send(RelayFixture.rtp(sequence: 501), to: call.ports[0])
            let next = try RTPHeader(parsing: try receiveB.unprotect(srtp: try #require(phoneB.receive()).bytes))
            #expect(next.sequenceNumber == 501 &+ UInt16(parsed.count))

            await #expect(throws: MediaError.self) { try await call.sendTelephoneEvent(leg: 5, event: 1, duration: .milliseconds(100)) }
            await call.release()
        }
    }
}
