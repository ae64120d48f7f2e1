import SIP
import SIPTransaction

/// A point on the fake clock, as time since the test started.
struct TestInstant: InstantProtocol, CustomStringConvertible {
    var sinceStart: Duration

    static let start = TestInstant(sinceStart: .zero)

    static func milliseconds(_ value: Int) -> TestInstant { TestInstant(sinceStart: .milliseconds(value)) }

    func advanced(by duration: Duration) -> TestInstant { TestInstant(sinceStart: sinceStart + duration) }
    func duration(to other: TestInstant) -> Duration { other.sinceStart - sinceStart }
    static func < (lhs: TestInstant, rhs: TestInstant) -> Bool { lhs.sinceStart < rhs.sinceStart }

    var description: String { "\(sinceStart)" }
}

/// Where a message came from or goes to, as the I/O shell would name a connection.
struct Peer: Hashable, Sendable {
    var name: String
    static let phone = Peer(name: "phone")
    static let callManager = Peer(name: "cm")
}

typealias Layer = TransactionLayer<Peer, TestInstant>

enum Fixture {
    /// Parses a message written with bare line feeds, as the tests spell them.
    static func message(_ text: String) -> SIPMessage {
        let wire = text.replacing("\n", with: "\r\n")
        do {
            return try SIPMessageParser.parse(Array(wire.utf8))
        } catch {
            fatalError("fixture does not parse: \(error)\n\(text)")
        }
    }

    static func request(_ text: String) -> SIPRequest { message(text).request! }

    /// An INVITE that went through one proxy already, so it has two Vias, and that carries a route set.
    static func invite(
        branch: String = "z9hG4bKnashds8", sentBy: String = "pc33.atlanta.example.com", toTag: String? = nil
    ) -> SIPRequest {
        request(
            """
            INVITE sip:bob@biloxi.example.com SIP/2.0
            Via: SIP/2.0/UDP \(sentBy);branch=\(branch)
            Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKupstream1
            Route: <sip:proxy1.example.com;lr>
            Route: <sip:proxy2.example.com;lr>
            Max-Forwards: 69
            To: Bob <sip:bob@biloxi.example.com>\(toTag.map { ";tag=" + $0 } ?? "")
            From: Alice <sip:alice@atlanta.example.com>;tag=1928301774
            Call-ID: a84b4c76e66710@pc33.atlanta.example.com
            CSeq: 314159 INVITE
            Contact: <sip:alice@pc33.atlanta.example.com>
            Timestamp: 54
            Content-Type: application/sdp
            Content-Length: 5

            v=0\n
            """)
    }

    static func options(branch: String = "z9hG4bKopt77") -> SIPRequest {
        request(
            """
            OPTIONS sip:edge.branch.example.com SIP/2.0
            Via: SIP/2.0/TLS cm.example.com:5061;branch=\(branch)
            Max-Forwards: 70
            To: <sip:edge.branch.example.com>
            From: <sip:cm.example.com>;tag=77aa
            Call-ID: opt-1@cm.example.com
            CSeq: 12 OPTIONS
            Content-Length: 0


            """)
    }

    /// The request with a different top Via branch, as a new transaction of the same caller.
    static func withBranch(_ request: SIPRequest, _ branch: String) -> SIPRequest {
        var copy = request
        var vias = request.headers.values(.via)
        var top = try! Via(parsing: vias[0])
        top.branch = branch
        vias[0] = top.description
        copy.headers.remove(.via)
        for via in vias.reversed() { copy.headers.insert(.via, via) }
        return copy
    }

    static func response(_ statusCode: Int, to request: SIPRequest, toTag: String? = "a6c85cf") -> SIPResponse {
        SIPResponse(respondingTo: request, statusCode: statusCode, toTag: toTag)
    }

    /// The ACK a UAC sends for a 2xx: a new transaction, so a new branch (§13.2.2.4).
    static func ackForSuccess(_ invite: SIPRequest, response: SIPResponse, branch: String = "z9hG4bKack2xx") -> SIPRequest {
        var ack = withBranch(invite.ack(acknowledging: response), branch)
        ack.headers.remove(.route)
        return ack
    }

    /// The ACK an RFC 3261 UAC's INVITE client transaction sends for a non-2xx response.
    static func ackForFailure(_ invite: SIPRequest, response: SIPResponse) -> SIPRequest {
        invite.ack(acknowledging: response)
    }
}

extension TransactionLayer.Action {
    var sentMessage: SIPMessage? {
        if case .send(let message, _, _) = self { return message }
        return nil
    }
}

/// Drives a layer the way the I/O shell does: sleep until `nextDeadline`, then advance, until no
/// timer is left or `limit` is reached. Returns each action with the time it happened.
func runTimers(_ layer: inout Layer, until limit: TestInstant) -> [(time: TestInstant, action: Layer.Action)] {
    var log: [(time: TestInstant, action: Layer.Action)] = []
    while let deadline = layer.nextDeadline, deadline <= limit {
        for action in layer.advance(to: deadline) { log.append((deadline, action)) }
    }
    return log
}

func seconds(_ value: Double) -> TestInstant { TestInstant(sinceStart: .milliseconds(Int((value * 1000).rounded()))) }

/// Ends a test whose precondition did not hold, with what was found instead.
struct Failure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
