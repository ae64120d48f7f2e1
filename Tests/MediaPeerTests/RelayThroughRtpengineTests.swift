import Foundation
import Logging
import Media
import MediaPeerSupport
import NIOCore
import NIOPosix
import PKI
import Runtime
import SDP
import SRTP
import Testing
import TestRequirementSupport

/// The edge's relay between two SRTP legs whose other ends are rtpengine, an independent SRTP
/// implementation: phone A (plain) ⇄ rtpengine ⇄ SRTP ⇄ relay leg 0 | relay leg 1 ⇄ SRTP ⇄
/// rtpengine ⇄ phone B (plain). rtpengine encrypts towards the relay with its own keys and
/// decrypts what the relay sends with the keys the relay announced, so a tone that crosses intact
/// proves the relay decrypted one key and re-encrypted with another, both ways.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct RelayThroughRtpengineTests {
    static let packets = 25
    static let tone = ToneSignal.pcmuPayloads(frequency: 1000, packets: packets)
    static let pcmu = [RTPMap(payloadType: 0, encoding: "PCMU", clockRate: 8_000)]
    static let common: [String: BencodeValue] = ["ICE": "remove", "DTLS": "off", "replace": ["origin", "session-connection"]]

    /// The two rtpengine calls and the relay call between them.
    struct Chain {
        let phoneA: RTPStreamer
        let phoneB: RTPStreamer
        let call: RelayedCall
        /// Where each phone sends (rtpengine's plain side of its call).
        var engineForA: UInt16 = 0
        var engineForB: UInt16 = 0
    }

    static func address(_ port: UInt16) throws -> SocketAddress { try SocketAddress(ipAddress: "127.0.0.1", port: Int(port)) }

    static func build(engine: RtpengineProcess, relay: RTPRelay, suiteA: SRTPSuite, suiteB: SRTPSuite) async throws -> Chain {
        let control = engine.control
        var chain = Chain(
            phoneA: try RTPStreamer(ssrc: 0xA000_0001), phoneB: try RTPStreamer(ssrc: 0xB000_0002),
            call: try await relay.allocate(callID: "chain-\(UInt32.random(in: 0...UInt32.max))", legs: 2))
        let relayPorts = chain.call.ports.map { UInt16($0) }

        // Call X: phone A offers plain RTP, rtpengine turns it into SRTP towards relay leg 0, which answers.
        var offerFlags = common
        offerFlags["transport-protocol"] = "RTP/SAVP"
        offerFlags["SDES"] = RtpengineControl.sdesOnly(suiteA.sdpName)
        let offerX = try control.offer(
            callID: chain.call.callID + "-x", fromTag: "a", sdp: PeerSDP(port: chain.phoneA.port, transport: "RTP/AVP").render(), flags: offerFlags)
        let towardsRelayX = try #require(PeerSDP(parsing: offerX.sdp), "\(offerX.sdp)")
        let engineKeyX = try #require(towardsRelayX.crypto.first, "rtpengine offered no crypto: \(offerX.sdp)")
        let leg0 = try await chain.call.update(
            leg: 0,
            MediaLegParameters(
                remote: try address(towardsRelayX.port),
                security: .srtp(outboundSuite: suiteA, peerKey: try SRTPMasterKey(suite: suiteA, bytes: engineKeyX.keyAndSalt)),
                payloadFormats: pcmu))
        var answerFlags = common
        answerFlags["transport-protocol"] = "RTP/AVP"
        let answerX = try control.answer(
            callID: chain.call.callID + "-x", fromTag: "a", toTag: "relay",
            sdp: PeerSDP(
                port: relayPorts[0], transport: "RTP/SAVP",
                crypto: [SDESCrypto(tag: engineKeyX.tag, suite: suiteA.sdpName, keyAndSalt: try #require(leg0.outboundKey).bytes)]
            ).render(),
            flags: answerFlags)
        chain.engineForA = try #require(PeerSDP(parsing: answerX.sdp)).port

        // Call Y: relay leg 1 offers SRTP with its own key before it knows the peer's; phone B answers plain.
        let offered = try await chain.call.update(
            leg: 1, MediaLegParameters(remote: nil, security: .srtp(outboundSuite: suiteB, peerKey: nil), payloadFormats: pcmu))
        var offerYFlags = common
        offerYFlags["transport-protocol"] = "RTP/AVP"
        let offerY = try control.offer(
            callID: chain.call.callID + "-y", fromTag: "relay",
            sdp: PeerSDP(
                port: relayPorts[1], transport: "RTP/SAVP",
                crypto: [SDESCrypto(tag: 1, suite: suiteB.sdpName, keyAndSalt: try #require(offered.outboundKey).bytes)]
            ).render(),
            flags: offerYFlags)
        chain.engineForB = try #require(PeerSDP(parsing: offerY.sdp)).port
        var answerYFlags = common
        answerYFlags["transport-protocol"] = "RTP/SAVP"
        answerYFlags["SDES"] = RtpengineControl.sdesOnly(suiteB.sdpName)
        let answerY = try control.answer(
            callID: chain.call.callID + "-y", fromTag: "relay", toTag: "b", sdp: PeerSDP(port: chain.phoneB.port, transport: "RTP/AVP").render(),
            flags: answerYFlags)
        let towardsRelayY = try #require(PeerSDP(parsing: answerY.sdp), "\(answerY.sdp)")
        let engineKeyY = try #require(towardsRelayY.crypto.first, "rtpengine answered no crypto: \(answerY.sdp)")
        let answered = try await chain.call.update(
            leg: 1,
            MediaLegParameters(
                remote: try address(towardsRelayY.port),
                security: .srtp(outboundSuite: suiteB, peerKey: try SRTPMasterKey(suite: suiteB, bytes: engineKeyY.keyAndSalt)),
                payloadFormats: pcmu))
        #expect(answered.outboundKey == offered.outboundKey, "the key offered to B stays once B answers")
        return chain
    }

    static func checkTone(from sender: RTPStreamer, to port: UInt16, arrivingAt receiver: RTPStreamer) throws {
        let sent = try sender.send(payloads: tone, to: port, interval: .milliseconds(5))
        let (received, rejected) = try receiver.receive(count: packets, timeout: .seconds(3))
        #expect(rejected.isEmpty, "\(rejected)")
        try #require(received.count == packets, "\(received.count) of \(packets) packets crossed the relay")
        #expect(received.map(\.payload) == tone, "the speech crossed two decryptions and two encryptions unchanged")
        #expect(received.map(\.header.sequenceNumber) == sent.map(\.sequenceNumber))
        let report = ToneSignal.analyse(samples: ToneSignal.decodePCMU(received.map(\.payload)), expected: 1000)
        #expect(report.isDominant(byAtLeast: 20), "\(report)")
    }

    static func withRelayAndEngine(_ body: (RtpengineProcess, RTPRelay) async throws -> Void) async throws {
        guard TestRequirement.tool(RtpengineProcess.defaultExecutable) else { return }
        let engine = try RtpengineProcess()
        defer { engine.stop() }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let relay = RTPRelay(
            settings: MediaRelaySettings(bindHost: "127.0.0.1", ports: 45_000...45_999, quarantine: .zero), loops: [group.next()],
            sockets: DatagramMediaSockets(), keySource: { try SecureRandom.bytes($0) }, logger: Logger(label: "relay-interop"), events: { _ in })
        do {
            try await body(engine, relay)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        try await group.shutdownGracefully()
    }

    @Test(arguments: [
        (SRTPSuite.aesCM128HMACSHA1_80, SRTPSuite.aesCM128HMACSHA1_80),
        (SRTPSuite.aesCM128HMACSHA1_80, SRTPSuite.aeadAES128GCM),
        (SRTPSuite.aeadAES128GCM, SRTPSuite.aesCM128HMACSHA1_32),
    ])
    func aToneCrossesTheRelayBetweenTwoRtpengineLegsBothWays(suiteA: SRTPSuite, suiteB: SRTPSuite) async throws {
        try await Self.withRelayAndEngine { engine, relay in
            let chain = try await Self.build(engine: engine, relay: relay, suiteA: suiteA, suiteB: suiteB)
            try Self.checkTone(from: chain.phoneA, to: chain.engineForA, arrivingAt: chain.phoneB)
            try Self.checkTone(from: chain.phoneB, to: chain.engineForB, arrivingAt: chain.phoneA)
            let statistics = try await chain.call.statistics()
            #expect(statistics.legs.map(\.inbound.packets) == [UInt64(Self.packets), UInt64(Self.packets)], "\(engine.logTail())")
            #expect(statistics.legs.allSatisfy { $0.inbound.authenticationFailures == 0 && $0.encrypted })
            await chain.call.release()
        }
    }

    /// tshark on the relay's own ports: SRTP in both directions on both legs, with each suite's
    /// tag, and never a tone byte in clear.
    @Test func tsharkSeesOnlySRTPAtTheRelay() async throws {
        guard TestRequirement.tool(PacketCapture.tshark) else { return }
        guard geteuid() == 0 else {
            TestRequirement.unmet("capturing on lo needs root")
            return
        }
        try await Self.withRelayAndEngine { engine, relay in
            let chain = try await Self.build(engine: engine, relay: relay, suiteA: .aesCM128HMACSHA1_80, suiteB: .aeadAES128GCM)
            let ports = chain.call.ports.map { UInt16($0) }
            let capture = try PacketCapture(ports: ports, maximumDuration: 20)
            defer { capture.stop() }
            try Self.checkTone(from: chain.phoneA, to: chain.engineForA, arrivingAt: chain.phoneB)
            try Self.checkTone(from: chain.phoneB, to: chain.engineForB, arrivingAt: chain.phoneA)
            let datagrams = try capture.datagrams(decodingAsRTP: ports)
            let toneSet = Set(Self.tone)
            for (port, tag) in [(ports[0], 10), (ports[1], 16)] {
                let leg = datagrams.filter { $0.sourcePort == port || $0.destinationPort == port }
                #expect(leg.count == 2 * Self.packets, "\(leg.count) datagrams at relay port \(port); \(capture.stderr)")
                for datagram in leg {
                    #expect(datagram.payload.count == RTPHeader.length + ToneSignal.samplesPerPacket + tag, "SRTP with the leg's tag")
                    let body = Array(datagram.payload.dropFirst(RTPHeader.length).prefix(ToneSignal.samplesPerPacket))
                    #expect(!toneSet.contains(body), "tone bytes in clear at relay port \(port)")
                }
            }
            await chain.call.release()
        }
    }
}
