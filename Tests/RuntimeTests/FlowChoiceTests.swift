import Edge
import SIPTransport
import Testing

@testable import Runtime

/// Where a request to a registered phone goes (RFC 5626 §5.3), decided without sockets.
@Suite struct FlowChoiceTests {
    static func binding(_ transport: BindingFlow.Transport, connection: UInt64? = 7, stale: Bool = false, contact: String, outbound: Bool = false) -> Binding {
        Binding(
            addressOfRecord: "2001", contact: contact, device: "SEP001122334455", expiresAt: 0, instanceID: outbound ? "<urn:uuid:1>" : nil,
            regID: outbound ? 1 : nil, callID: "c", cseq: 1,
            flow: BindingFlow(transport: transport, remoteAddress: "192.0.2.7", remotePort: 40_000, connection: connection, stale: stale),
            registeredAt: 0)
    }

    let listener = SIPConnectionID(rawValue: 1)

    @Test func aLiveStreamFlowIsUsed() {
        let choice = FlowChoice.decide(for: Self.binding(.tls, contact: "sip:2001@192.0.2.7:5061;transport=tls"), connectionAlive: { _ in true }, udpListener: listener)
        #expect(choice == .existingConnection(SIPConnectionID(rawValue: 7)))
    }

    @Test func udpGoesToTheSourceAddressNotTheContact() {
        let choice = FlowChoice.decide(for: Self.binding(.udp, connection: nil, contact: "sip:2001@10.9.9.9:5060"), connectionAlive: { _ in false }, udpListener: listener)
        #expect(choice == .udpListener(listener, host: "192.0.2.7", port: 40_000))
    }

    @Test func aGoneStreamFlowIsReplacedByAConnectionToTheContact() {
        let closed = FlowChoice.decide(for: Self.binding(.tls, contact: "sip:2001@192.0.2.7:5071;transport=tls"), connectionAlive: { _ in false }, udpListener: listener)
        #expect(closed == .newConnection(.tls, host: "192.0.2.7", port: 5071))
        // A flow restored from an earlier process is gone even if its number is in use now.
        let stale = FlowChoice.decide(
            for: Self.binding(.tcp, stale: true, contact: "sip:2001@[2001:db8::7];transport=tcp"), connectionAlive: { _ in true }, udpListener: listener)
        #expect(stale == .newConnection(.tcp, host: "2001:db8::7", port: 5060))
    }

    @Test func anOutboundFlowIsNeverReplacedAndOthersFailWithAReason() {
        let outbound = FlowChoice.decide(
            for: Self.binding(.tls, contact: "sip:2001@192.0.2.7:5061", outbound: true), connectionAlive: { _ in false }, udpListener: listener)
        guard case .unreachable(let reason) = outbound else { Issue.record("\(outbound)"); return }
        #expect(reason.contains("RFC 5626"))
        let named = FlowChoice.decide(for: Self.binding(.tcp, contact: "sip:2001@phone.example"), connectionAlive: { _ in false }, udpListener: listener)
        #expect(named == .unreachable("the Contact host phone.example is not an address"))
        let noListener = FlowChoice.decide(for: Self.binding(.udp, connection: nil, contact: "sip:2001@192.0.2.7"), connectionAlive: { _ in false }, udpListener: nil)
        guard case .unreachable = noListener else { Issue.record("\(noListener)"); return }
    }
}
