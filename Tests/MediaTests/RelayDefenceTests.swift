import Media
import NIOCore
import RTP
import SDP
import SRTP
import Testing

@Suite("Media relay: hostile input, latching, timeouts and rollover")
struct RelayDefenceTests {
    @Test func forgedReplayedTruncatedOversizedAndGarbagePacketsAreDroppedAndCounted() async throws {
        try await withRelay { fixture in
            let phoneA = try UDPPeer()
            let phoneB = try UDPPeer()
            let intruder = try UDPPeer()
            let keyA = try RelayFixture.key(.aesCM128HMACSHA1_80)
            let call = try await fixture.relay.allocate(callID: "hostile", legs: 2)
            _ = try await call.update(leg: 0, RelayFixture.parameters(phoneA, security: .srtp(outboundSuite: .aesCM128HMACSHA1_80, peerKey: keyA)))
            _ = try await call.update(leg: 1, RelayFixture.parameters(phoneB, security: .plain))
            let sendA = try SRTPSession(key: keyA, direction: .outbound)

            let good = try sendA.protect(rtp: RelayFixture.rtp(sequence: 1))
            phoneA.send(good, to: call.ports[0])
            #expect(phoneB.receive() != nil)
            phoneA.send(good, to: call.ports[0])  // replayed
            var forged = try sendA.protect(rtp: RelayFixture.rtp(sequence: 2))
            forged[20] ^= 0x01
            phoneA.send(forged, to: call.ports[0])  // bad tag
            phoneA.send(Array(good.prefix(5)), to: call.ports[0])  // truncated
            phoneA.send([UInt8](repeating: 0xEE, count: 1_400), to: call.ports[0])  // garbage
            phoneA.send([0x80, 0x00] + [UInt8](repeating: 0x41, count: 3_000), to: call.ports[0])  // oversized
            intruder.send(try sendA.protect(rtp: RelayFixture.rtp(sequence: 3)), to: call.ports[0])  // valid, but from elsewhere after latching
            #expect(phoneB.receive(timeout: .milliseconds(300)) == nil, "nothing of that reached the other leg")

            // The call is unaffected: the next good packet still goes through.
            let next = RelayFixture.rtp(sequence: 4)
            phoneA.send(try sendA.protect(rtp: next), to: call.ports[0])
            #expect(phoneB.receive()?.bytes == next)

            let inbound = try await call.statistics().legs[0].inbound
            #expect(inbound.packets == 2)
            #expect(inbound.replays == 1)
            #expect(inbound.wrongSource == 1)
            #expect(inbound.authenticationFailures + inbound.malformed == 4)
            #expect(inbound.authenticationFailures >= 1, "the forged packet")
            await call.release()
        }
    }

    @Test func aPlainLegLatchesOnlyWhenAllowedAndThenLocks() async throws {
        try await withRelay { fixture in
            let natted = try UDPPeer()
            let other = try UDPPeer()
            let third = try UDPPeer()
            let unreachable = try SocketAddress(ipAddress: "127.0.0.1", port: 9)
            let call = try await fixture.relay.allocate(callID: "latch", legs: 2)
            _ = try await call.update(leg: 0, RelayFixture.parameters(nil, security: .plain, latches: true, remote: unreachable))
            _ = try await call.update(leg: 1, RelayFixture.parameters(other, security: .plain))

            natted.send(RelayFixture.rtp(sequence: 1), to: call.ports[0])
            #expect(other.receive() != nil)
            other.send(RelayFixture.rtp(sequence: 1, ssrc: 2), to: call.ports[1])
            #expect(natted.receive()?.fromPort == call.ports[0], "the answer goes to the learned address")
            third.send(RelayFixture.rtp(sequence: 2), to: call.ports[0])
            #expect(other.receive(timeout: .milliseconds(300)) == nil, "after latching the source is locked")
            let statistics = try await call.statistics()
            #expect(statistics.legs[0].latched && statistics.legs[0].remote == natted.address)
            #expect(statistics.legs[0].inbound.wrongSource == 1)
            #expect(fixture.events.contains(.latched(callID: "latch", leg: 0, source: natted.address)))

            // Without latching a plain leg accepts only its SDP address.
            let strict = try await fixture.relay.allocate(callID: "strict", legs: 2)
            _ = try await strict.update(leg: 0, RelayFixture.parameters(nil, security: .plain, latches: false, remote: unreachable))
            _ = try await strict.update(leg: 1, RelayFixture.parameters(other, security: .plain))
            natted.send(RelayFixture.rtp(sequence: 3), to: strict.ports[0])
            #expect(other.receive(timeout: .milliseconds(300)) == nil)
            #expect(try await strict.statistics().legs[0].inbound.wrongSource == 1)
            await call.release()
            await strict.release()
        }
    }

    @Test func anSRTPLegLatchesOnAnAuthenticatedPacketNeverOnAForgedOne() async throws {
        try await withRelay { fixture in
            let natted = try UDPPeer()
            let attacker = try UDPPeer()
            let other = try UDPPeer()
            let key = try RelayFixture.key(.aesCM128HMACSHA1_80)
            let call = try await fixture.relay.allocate(callID: "srtp-latch", legs: 2)
            _ = try await call.update(
                leg: 0,
                RelayFixture.parameters(
                    nil, security: .srtp(outboundSuite: .aesCM128HMACSHA1_80, peerKey: key), remote: try SocketAddress(ipAddress: "127.0.0.1", port: 9)))
            _ = try await call.update(leg: 1, RelayFixture.parameters(other, security: .plain))
            let sender = try SRTPSession(key: key, direction: .outbound)
            var forged = try sender.protect(rtp: RelayFixture.rtp(sequence: 1))
            forged[forged.count - 1] ^= 0xFF
            attacker.send(forged, to: call.ports[0])
            attacker.send(RelayFixture.rtp(sequence: 1), to: call.ports[0])
            #expect(other.receive(timeout: .milliseconds(300)) == nil)
            #expect(try await call.statistics().legs[0].latched == false)

            natted.send(try sender.protect(rtp: RelayFixture.rtp(sequence: 2)), to: call.ports[0])
            #expect(other.receive() != nil)
            let statistics = try await call.statistics().legs[0]
            #expect(statistics.latched && statistics.remote == natted.address)
            #expect(statistics.inbound.authenticationFailures == 2)
            await call.release()
        }
    }

    @Test func silenceAfterAnswerRaisesATimeoutAndAHeldLegWaitsLonger() async throws {
        let settings = MediaRelaySettings(
            bindHost: "127.0.0.1", ports: 43_000...43_999, quarantine: .zero, mediaTimeout: .milliseconds(400), holdTimeout: .seconds(5))
        try await withRelay(settings: settings) { fixture in
            let phoneA = try UDPPeer()
            let phoneB = try UDPPeer()
            let call = try await fixture.relay.allocate(callID: "quiet", legs: 2)
            _ = try await call.update(leg: 0, RelayFixture.parameters(phoneA, security: .plain))
            _ = try await call.update(leg: 1, RelayFixture.parameters(phoneB, security: .plain, direction: .inactive))
            try await Task.sleep(for: .milliseconds(600))
            #expect(fixture.events.isEmpty, "no timeout before the call is answered")
            try await call.answered()
            try await Task.sleep(for: .milliseconds(1_000))
            let timeouts = fixture.events.compactMap { event -> (Int, String)? in
                if case .timeout(_, let leg, let reason) = event { return (leg, reason) }
                return nil
            }
            #expect(timeouts.map(\.0) == [0], "the held leg has its own, longer limit")
            #expect(timeouts.first?.1.contains("no RTP") == true)
            await call.release()
        }
    }

    @Test func theRolloverCounterCarriesAcrossTheWrapAndAHoldThatKeepsTheKey() async throws {
        try await withRelay { fixture in
            let phoneA = try UDPPeer()
            let phoneB = try UDPPeer()
            let keyA = try RelayFixture.key(.aesCM128HMACSHA1_80)
            let keyB = try RelayFixture.key(.aesCM128HMACSHA1_80)
            let call = try await fixture.relay.allocate(callID: "roc", legs: 2)
            let legA = RelayFixture.parameters(phoneA, security: .srtp(outboundSuite: .aesCM128HMACSHA1_80, peerKey: keyA))
            _ = try await call.update(leg: 0, legA)
            let localB = try await call.update(leg: 1, RelayFixture.parameters(phoneB, security: .srtp(outboundSuite: .aesCM128HMACSHA1_80, peerKey: keyB)))
            let sendA = try SRTPSession(key: keyA, direction: .outbound)
            let receiveB = try SRTPSession(key: try #require(localB.outboundKey), direction: .inbound)

            func stream(_ sequences: [UInt16]) throws -> Int {
                var delivered = 0
                for chunk in stride(from: 0, to: sequences.count, by: 50) {
                    for sequence in sequences[chunk..<min(chunk + 50, sequences.count)] {
                        phoneA.send(try sendA.protect(rtp: RelayFixture.rtp(sequence: sequence)), to: call.ports[0])
                    }
                    for packet in phoneB.receiveAll(quiet: .milliseconds(100)) where (try? receiveB.unprotect(srtp: packet)) != nil {
                        delivered += 1
                    }
                }
                return delivered
            }
            let acrossTheWrap = (65_300...65_535).map { UInt16($0) } + (0...300).map { UInt16($0) }
            #expect(try stream(acrossTheWrap) == acrossTheWrap.count)
            #expect(try sendA.rolloverCounter(ssrc: 0x1234_5678) == 1)

            // Hold and resume with the same key and address: the context and its ROC stay.
            var held = legA
            held.direction = .sendonly
            _ = try await call.update(leg: 0, held)
            _ = try await call.update(leg: 0, legA)
            #expect(try stream((301...400).map { UInt16($0) }) == 100)
            #expect(try receiveB.rolloverCounter(ssrc: 0x1234_5678) == 1)
            #expect(try await call.statistics().legs[0].inbound.authenticationFailures == 0)
            await call.release()
        }
    }

    @Test func aFloodOnTheUnusedRTCPPortOfAMuxedLegIsCountedAndHarmless() async throws {
        try await withRelay { fixture in
            let phoneA = try UDPPeer()
            let phoneB = try UDPPeer()
            let flooder = try UDPPeer()
            let call = try await fixture.relay.allocate(callID: "flood", legs: 2)
            _ = try await call.update(leg: 0, RelayFixture.parameters(phoneA, security: .plain, rtcpMux: true))
            _ = try await call.update(leg: 1, RelayFixture.parameters(phoneB, security: .plain))
            for sequence in 0..<2_000 {
                flooder.send(RelayFixture.rtp(sequence: UInt16(sequence)), to: call.ports[0] + 1)
            }
            phoneA.send(RelayFixture.rtp(sequence: 77), to: call.ports[0])
            let arrived = phoneB.receiveAll()
            #expect(arrived.count == 1)
            let inbound = try await call.statistics().legs[0].inbound
            #expect(inbound.packets == 1)
            #expect(inbound.malformed + inbound.dropped + inbound.wrongSource > 1_000, "the flood was seen and counted")
            await call.release()
        }
    }

    @Test func plainRTCPFromAnSRTPPeerIsCountedAndSRTCPReportsAreReadAndRelayed() async throws {
        try await withRelay { fixture in
            let phoneA = try UDPPeer()
            let phoneARTCP = try UDPPeer()
            let phoneB = try UDPPeer()
            let keyA = try RelayFixture.key(.aesCM128HMACSHA1_80)
            let call = try await fixture.relay.allocate(callID: "rtcp", legs: 2)
            _ = try await call.update(
                leg: 0,
                RelayFixture.parameters(phoneA, security: .srtp(outboundSuite: .aesCM128HMACSHA1_80, peerKey: keyA), remoteRTCP: phoneARTCP.address))
            _ = try await call.update(leg: 1, RelayFixture.parameters(phoneB, security: .plain, rtcpMux: true))
            let report = RTCPCompound(packets: [
                .receiverReport(
                    RTCPReceiverReport(
                        ssrc: 0x1234_5678,
                        reports: [
                            RTCPReportBlock(
                                ssrc: 0x0BAD, fractionLost: 64, cumulativeLost: 12, extendedHighestSequence: 100, jitter: 80,
                                lastSenderReport: 0, delaySinceLastSenderReport: 0)
                        ]))
            ]).serialized()
            phoneARTCP.send(report, to: call.ports[0] + 1)
            #expect(phoneB.receive(timeout: .milliseconds(300)) == nil)
            #expect(try await call.statistics().legs[0].inbound.plainRTCPOnSecureLeg == 1)

            let sender = try SRTPSession(key: keyA, direction: .outbound)
            phoneARTCP.send(try sender.protect(rtcp: report), to: call.ports[0] + 1)
            let relayed = try #require(phoneB.receive())
            #expect(relayed.bytes == report, "decrypted for the plain, muxed leg and sent to its RTP port")
            let statistics = try await call.statistics().legs[0]
            #expect(statistics.inbound.rtcpPackets == 1)
            #expect(statistics.outbound.peerReportedFractionLost == 0.25)
            #expect(statistics.outbound.peerReportedCumulativeLost == 12)
            #expect(statistics.outbound.peerReportedJitterMilliseconds == 10)
            await call.release()
        }
    }
}
