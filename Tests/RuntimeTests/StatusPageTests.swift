import Edge
import Foundation
import Testing

@testable import Runtime

@Suite struct StatusPageTests {
    static func view(alarm: String) -> StatusTopic.View {
        StatusTopic.View(
            server: "Branch <7>", uptimeSeconds: 3_700, mode: .survivable,
            trunk: .init(configured: false, state: nil, secondsInState: nil, lastCause: nil, failovers: nil, failbacks: nil, callManagers: []),
            ipsec: .init(configured: false, protected: nil, reason: nil),
            registrations: .init(bindings: 1, byTransport: ["udp": 1], devicesRegistered: 1, inventoryDevices: 2, lockouts: 0),
            calls: .init(active: 0, attempts: 3, byResult: ["answered": 2, "486": 1], relayPortPairsInUse: 0, relayPortPairs: 100),
            sip: .init(transactions: 1, connections: ["udp": 1], tlsHandshakeFailures: 0, parseErrors: 0),
            certificate: .init(subject: nil, notAfter: nil, daysLeft: nil, problem: "no TLS listener"),
            tftp: .init(enabled: false, activeTransfers: 0, completed: 0, failed: 0), pstn: "no PSTN ports are configured",
            alarms: [RecentAlarms.Entry(at: 0, level: "warning", source: "test", message: alarm)])
    }

    /// A phone chooses its User-Agent, and anyone may send a REGISTER: nothing it says becomes markup.
    @Test func everythingFromTheNetworkIsEscapedAndThePageRefreshesItself() {
        let hostile = "<script>alert('x')</script>"
        let binding = Binding(
            addressOfRecord: "2001", contact: "sip:2001@192.0.2.1", device: "lobby\"><img src=x>", expiresAt: 2_000_000_000, callID: "c", cseq: 1,
            flow: BindingFlow(transport: .udp, remoteAddress: "192.0.2.1", remotePort: 5060), userAgent: hostile, registeredAt: 0)
        let html = StatusPage.render(
            StatusPage.Content(status: Self.view(alarm: hostile), bindings: [binding], calls: [], records: [], now: Date(timeIntervalSince1970: 1_900_000_000)))
        #expect(!html.contains("<script>") && !html.contains("<img"))
        #expect(html.contains("&lt;script&gt;alert(&apos;x&apos;)&lt;/script&gt;"))
        #expect(html.contains("lobby&quot;&gt;&lt;img src=x&gt;"))
        #expect(html.contains("<title>Branch &lt;7&gt; — Outpost edge</title>"))
        #expect(html.contains("<meta http-equiv=\"refresh\" content=\"5\">"))
        #expect(html.contains("<td>2001</td>") && html.contains("Registrations (1)"))
        #expect(html.contains("class=\"good\">survivable"), "without a trunk, survivable is the normal state")
    }
}
