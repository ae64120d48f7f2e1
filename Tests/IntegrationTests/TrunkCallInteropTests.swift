import Edge
import Foundation
import Runtime
import SIP
import SIPTransport
import Testing
import TestRequirementSupport

/// Calls through Kamailio as the call manager in normal mode: two real baresip phones register
/// over TLS through the edge (which relays their REGISTERs with its Path), and the dial plan
/// sends 2XXX to the call manager, which routes the call back through the edge to the other
/// phone. The edge carries two calls, one per half, with the media of both on its relay.
@Suite(.serialized, .timeLimit(.minutes(2))) struct TrunkCallInteropTests {
    static let mediaPorts = PacketCapture.mediaPortWindow()
    static let throughCallManager = DialPlan(rules: [
        DialPlanRule(name: "through-cm", pattern: try! DialPattern("2XXX"), target: .trunk, survivableTarget: .local)
    ])

    @Test func twoBranchPhonesTalkThroughKamailioWithTheirMediaOnTheEdge() async throws {
        if let reason = BaresipPhone.missingRequirement {
            TestRequirement.unmet(reason)
            return
        }
        let kamailio = try await KamailioUnderTest.start()
        defer { kamailio.stop() }
        let manager = OutpostConfiguration.Trunk.CallManager(transport: .udp, address: kamailio.address, port: kamailio.port)
        let edge = try await EdgeUnderTest.start(tls: IntegrationPKI.edgeTLS()) { configuration in
            BaresipCallTests.inventory(&configuration)
            configuration.media.portMin = Self.mediaPorts.lowerBound
            configuration.media.portMax = Self.mediaPorts.upperBound
            configuration.trunk = OutpostConfiguration.Trunk(
                callManagers: [manager], domain: "edge.test", optionsInterval: 1, failoverMisses: 3, failbackSuccesses: 1, holdDown: 0)
            configuration.dialPlan = Self.throughCallManager
        }
        do {
            let a = try BaresipCallTests.phone(line: "2001", certificate: "phone", tone: BaresipCallTests.toneOfA, edge: edge)
            let b = try BaresipCallTests.phone(line: "2002", certificate: "phone-b", tone: BaresipCallTests.toneOfB, edge: edge)
            defer {
                a.stop()
                b.stop()
            }
            try await BaresipPhone.startAndRegister(a, b)
            let upstream = try kamailio.bindings()
            #expect(Set(upstream.map(\.aor)) == ["2001", "2002"], "the call manager knows both phones: \(upstream)")

            // Every UDP datagram on loopback but SIP: the media of all four legs.
            let capture = try await PacketCapture(
                interface: "lo", filter: "udp portrange \(Self.mediaPorts.lowerBound)-\(Self.mediaPorts.upperBound)", fields: PacketCapture.mediaFields)
            defer { capture.stop() }

            try await BaresipCallTests.ring(a, b)
            let ringing = try await BaresipCallTests.showCalls(edge)
            #expect(ringing.contains("2 calls up") && ringing.contains("are one conversation through the call manager"), "one call per half: \(ringing)")
            try await b.answer()
            try await a.waitEvent(.established)
            try await b.waitEvent(.established)
            try await a.waitEvent(.rtpEstablished)
            try await b.waitEvent(.rtpEstablished)
            try await Task.sleep(for: .seconds(3))
            try await a.hangup()
            #expect(try await a.waitClosed() == "Connection reset by user")
            #expect(try await b.waitClosed() == "Connection reset by peer", "the BYE crossed Kamailio to the second half")

            // Six streams (phone A both ways, the two halves to each other both ways, phone B
            // both ways), each SRTP and none in clear.
            let streams = capture.mediaStreams()
            print("media legs on the wire (UDP lengths): \(streams.map { "\($0.key) \($0.value.sorted())" }.sorted().joined(separator: ", "))")
            #expect(streams.count == 6, "\(streams)")
            #expect(streams.values.allSatisfy { $0 == [190] }, "plain RTP (180) or something else on a leg: \(streams)")

            try CallExpectations.expectHeard([(a, BaresipCallTests.toneOfB), (b, BaresipCallTests.toneOfA)])
            let (first, second) = try await CallExpectations.closedHalves { try BaresipCallTests.records(edge) }
            #expect(first.callee.device == "call-manager" && first.callee.number == "2002" && first.route == "through-cm")
            #expect(first.endedBy == .caller && first.endStatus == 200)
            #expect(first.otherHalf == second.id && second.otherHalf == first.id, "each half's record names the other")
            #expect(second.callee.device == "SEP00AABBCCDD02" && second.callee.number == "2002" && second.caller.number == "2001")
            #expect(second.endedBy == .caller, "the BYE came to the second half from the call manager")
            #expect(first.legs.map(\.transport) == ["TLS", "UDP"] && second.legs.map(\.transport) == ["UDP", "TLS"])
            // Without IPsec on this trunk its signalling is in clear: neither half is secure.
            #expect(first.security == .nonSecure && second.security == .nonSecure)
            for record in [first, second] {
                #expect(record.legs.allSatisfy { $0.suite == "AES_CM_128_HMAC_SHA1_80" && ($0.quality?.packetsReceived ?? 0) > 100 }, "\(record.legs)")
            }
        } catch {
            Issue.record(error)
        }
        await edge.stop()
    }
}
