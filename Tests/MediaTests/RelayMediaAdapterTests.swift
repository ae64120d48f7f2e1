import Edge
import Media
import Runtime
import SDP
import SRTP
import RTP
import Synchronization
import Testing

@Suite("The call layer's MediaRelay over the relay")
struct RelayMediaAdapterTests {
    @Test func sdpLevelDescriptionsSetUpAnSRTPCallAndTheEdgesKeyComesBack() async throws {
        try await withRelay { fixture in
            let adapter = RelayMediaAdapter(relay: fixture.relay, observers: fixture.observers)
            let notices = EventLogOfNotices()
            adapter.observe { notice in notices.notices.withLock { $0.append(notice) } }
            let phoneA = try UDPPeer()
            let phoneB = try UDPPeer()
            let keyA = try RelayFixture.key(.aesCM128HMACSHA1_80)
            let session = try await adapter.allocate(callID: "sdp", legs: 2)
            let formats = [RelayFixture.pcmu, RelayFixture.telephoneEvent(101)]
            let answerA = try await session.update(
                leg: 0,
                MediaLegDescription(
                    address: "127.0.0.1", port: phoneA.port, payloadFormats: formats,
                    srtp: .init(suite: CryptoSuite(name: "AES_CM_128_HMAC_SHA1_80"), peerKeySalt: keyA.bytes)))
            // The offer to B goes out before B's key is known; its answer brings it.
            let offerB = try await session.update(
                leg: 1, MediaLegDescription(address: nil, port: 0, payloadFormats: formats, srtp: .init(suite: CryptoSuite(name: "AEAD_AES_256_GCM"), peerKeySalt: nil)))
            let keyB = try RelayFixture.key(.aeadAES256GCM)
            let answerB = try await session.update(
                leg: 1,
                MediaLegDescription(
                    address: "127.0.0.1", port: phoneB.port, payloadFormats: formats,
                    srtp: .init(suite: CryptoSuite(name: "AEAD_AES_256_GCM"), peerKeySalt: keyB.bytes)))
            #expect(answerA.port == session.ports[0] && answerB.port == session.ports[1])
            #expect(answerA.keySalt?.count == 30 && offerB.keySalt?.count == 44)
            #expect(answerB.keySalt == offerB.keySalt, "the key offered to B stays once B answers")

            let packet = RelayFixture.rtp(sequence: 3)
            let sendA = try SRTPSession(key: keyA, direction: .outbound)
            phoneA.send(try sendA.protect(rtp: packet), to: session.ports[0])
            let receiveB = try SRTPSession(suite: .aeadAES256GCM, masterKeyAndSalt: try #require(answerB.keySalt), direction: .inbound)
            #expect(try receiveB.unprotect(srtp: try #require(phoneB.receive()).bytes) == packet)
            let quality = try await session.quality()
            #expect(quality.map(\.packetsReceived) == [1, 0] && quality.map(\.packetsSent) == [0, 1])
            #expect(quality.allSatisfy { $0.encrypted })

            let event = RTPPacket(
                header: RTPHeader(marker: true, payloadType: 101, sequenceNumber: 4, timestamp: 480, ssrc: 0x1234_5678),
                payload: TelephoneEvent(event: 10, isEnd: true, duration: 800).serialized()).serialized()
            phoneA.send(try sendA.protect(rtp: event), to: session.ports[0])
            _ = phoneB.receive()
            let observed = notices.notices.withLock { $0 }
            #expect(observed == [.telephoneEvent(callID: "sdp", leg: 0, event: 10, ended: true, durationMilliseconds: 100)])
            await session.release()
        }
    }

    @Test func unsupportedSuitesWrongKeysAndNamesAreRefusedWithAReason() async throws {
        try await withRelay { fixture in
            let session = try await RelayMediaAdapter(relay: fixture.relay, observers: fixture.observers).allocate(callID: "bad", legs: 2)
            let formats = [RelayFixture.pcmu]
            let cases: [(MediaLegDescription, String)] = [
                (.init(address: "127.0.0.1", port: 4_000, payloadFormats: formats, srtp: .init(suite: CryptoSuite(name: "F8_128_HMAC_SHA1_80"), peerKeySalt: nil)),
                 "not supported"),
                (.init(address: "127.0.0.1", port: 4_000, payloadFormats: formats, srtp: .init(suite: CryptoSuite(name: "AES_CM_128_HMAC_SHA1_80"), peerKeySalt: [1, 2, 3])),
                 "30 bytes"),
                (.init(address: "phone.example", port: 4_000, payloadFormats: formats, srtp: nil), "not an IP address"),
            ]
            for (description, reason) in cases {
                do {
                    _ = try await session.update(leg: 0, description)
                    Issue.record("accepted \(description)")
                } catch {
                    #expect("\(error)".contains(reason), "\(error)")
                }
            }
            await session.release()
            #expect(fixture.relay.activeCalls == 0)
            #expect(fixture.relay.pool.allocated == 0, "the ports went back to the pool")
        }
    }
}

final class EventLogOfNotices: Sendable {
    let notices = Mutex<[MediaNotice]>([])
}
