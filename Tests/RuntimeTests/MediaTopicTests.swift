import Foundation
import Logging
import Media
import NIOCore
import SDP
import SRTP
import Testing

@testable import Runtime

@Suite("outpost show media")
struct MediaTopicTests {
    @Test func showsThePoolEachLegsCountersAndRecentEvents() async throws {
        let service = MediaService(
            configuration: OutpostConfiguration.Media(address: "127.0.0.1", portMin: 44_000, portMax: 44_099, latchingWindowSeconds: 5),
            logger: Logger(label: "media-topic"))
        let topic = MediaTopic(service: service)
        let call = try await service.relay.allocate(callID: "call-1", legs: 2)
        let pcmu = [RTPMap(payloadType: 0, encoding: "PCMU", clockRate: 8_000)]
        let remote = try SocketAddress(ipAddress: "127.0.0.1", port: 9)
        _ = try await call.update(leg: 0, MediaLegParameters(remote: remote, security: .plain, payloadFormats: pcmu, latchesPlainRTP: true))
        _ = try await call.update(leg: 1, MediaLegParameters(remote: remote, security: .srtp(outboundSuite: .aesCM128HMACSHA1_80, peerKey: nil), payloadFormats: pcmu, direction: .sendonly))

        let text = await topic.render(json: false)
        #expect(text.contains("ports 44000-44099: 2 of 50 pairs in use"), "\(text)")
        #expect(text.contains("call-1"))
        #expect(text.contains("udp:127.0.0.1:9"))
        #expect(text.contains("sendonly"))

        let json = try #require(await topic.render(json: true).data(using: .utf8))
        let object = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        #expect(object["allocated"] as? Int == 2)
        let calls = try #require(object["calls"] as? [[String: Any]])
        let legs = try #require(calls.first?["legs"] as? [[String: Any]])
        #expect(legs.map { $0["encrypted"] as? Bool } == [false, true])
        #expect(legs.first?["local_port"] as? Int == call.ports[0])
        let received = try #require(legs.first?["received"] as? [String: Any])
        #expect(received["authentication_failures"] as? Int == 0)

        await call.release()
        #expect(await topic.render(json: false).contains("0 of 50 pairs in use, 2 in quarantine"))
        try await service.shutdown()
    }
}
