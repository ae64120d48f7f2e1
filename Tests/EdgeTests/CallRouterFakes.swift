import Logging
import SDP
import SIP
import Synchronization

@testable import Edge

/// The SIP stack as the call layer sees it, scripted: each fork's INVITE is answered by the
/// script for the phone it goes to, and everything sent is kept for the test to read.
final class ScriptedSignalling: CallSignalling {
    enum Answer: Sendable {
        case ringThenAnswer(delay: Duration)
        case refuse(Int, String, delay: Duration)
        /// Rings and waits for a CANCEL (then 487).
        case ringForever
        /// Rings reliably (RFC 3262: Require: 100rel, RSeq 1), sends that 180 again as an
        /// unacknowledged UAS would, then answers.
        case ringReliablyThenAnswer(delay: Duration)
    }

    struct Sent: Sendable {
        var invites: [SIPRequest] = []
        var cancels: [(SIPRequest, String?)] = []
        var acks: [SIPRequest] = []
        var requests: [SIPRequest] = []
        var requestFlows: [BindingFlow] = []
        /// The 2xx each answering phone sent.
        var successes: [SIPResponse] = []
    }

    private let answers: [String: Answer]
    let sent = Mutex(Sent())
    private let cancelled = Mutex<Set<String>>([])

    /// The call manager over the trunk, as the stack would name its flow.
    static let callManager = BindingFlow(transport: .udp, remoteAddress: "198.51.100.10", remotePort: 5060)
    /// Whether the trunk carries anything: off, a call manager flow cannot be had and a request
    /// over it gets no answer, as when the WAN is cut.
    let trunkUp = Mutex(true)

    init(answers: [String: Answer]) { self.answers = answers }

    func flow(toward binding: Binding) async throws -> BindingFlow { binding.flow }
    func callManagerFlow() async throws -> BindingFlow {
        guard trunkUp.withLock({ $0 }) else { throw TrunkDown() }
        return Self.callManager
    }
    func isCallManager(_ flow: BindingFlow) -> Bool { flow == Self.callManager }
    struct TrunkDown: Error {}
    func localAddress(of flow: BindingFlow) -> (host: String, port: Int)? { ("192.0.2.1", 5061) }

    func invite(
        _ request: SIPRequest, over flow: BindingFlow, sent: @escaping @Sendable (SIPRequest) -> Void,
        provisional: @escaping @Sendable (SIPResponse) -> Void
    ) async throws -> SIPResponse {
        var outgoing = request
        outgoing.headers.insert(.via, "SIP/2.0/TLS 192.0.2.1:5061;branch=\(SIPIdentifiers.branch())", at: 0)
        self.sent.withLock { $0.invites.append(outgoing) }
        sent(outgoing)
        let user = request.uri.sipURI?.user ?? ""
        let callID = (try? request.headers.callID()) ?? ""
        let tag = SIPIdentifiers.tag()
        let answer = answers[user] ?? .ringForever
        switch answer {
        case .ringThenAnswer(let delay), .ringReliablyThenAnswer(let delay):
            var ringing = SIPResponse(respondingTo: outgoing, statusCode: 180, reasonPhrase: "Ringing", toTag: tag)
            if case .ringReliablyThenAnswer = answer {
                ringing.headers.append(.require, "100rel")
                ringing.headers.append(.rseq, "1")
                ringing.headers.append(.contact, "<sip:\(user)@\(flow.remoteAddress):\(flow.remotePort);transport=tls>")
                provisional(ringing)
            }
            provisional(ringing)
            try await Task.sleep(for: delay)
            if cancelled.withLock({ $0.contains(callID) }) { return SIPResponse(respondingTo: outgoing, statusCode: 487, toTag: tag) }
            var ok = SIPResponse(respondingTo: outgoing, statusCode: 200, reasonPhrase: "OK", toTag: tag)
            ok.headers.append(.contact, "<sip:\(user)@\(flow.remoteAddress):\(flow.remotePort);transport=tls>")
            ok.body = try Self.answer(to: request.body, port: 30_000)
            ok.headers.append(.contentType, "application/sdp")
            let answered = ok
            self.sent.withLock { $0.successes.append(answered) }
            return ok
        case .refuse(let status, let phrase, let delay):
            try await Task.sleep(for: delay)
            return SIPResponse(respondingTo: outgoing, statusCode: status, reasonPhrase: phrase, toTag: tag)
        case .ringForever:
            provisional(SIPResponse(respondingTo: outgoing, statusCode: 180, reasonPhrase: "Ringing", toTag: tag))
            for _ in 0..<500 {
                if cancelled.withLock({ $0.contains(callID) }) { return SIPResponse(respondingTo: outgoing, statusCode: 487, toTag: tag) }
                try await Task.sleep(for: .milliseconds(10))
            }
            return SIPResponse(respondingTo: outgoing, statusCode: 408, toTag: tag)
        }
    }

    func cancel(_ sentInvite: SIPRequest, over flow: BindingFlow, reason: String?) async {
        sent.withLock { $0.cancels.append((sentInvite, reason)) }
        _ = cancelled.withLock { $0.insert((try? sentInvite.headers.callID()) ?? "") }
    }

    func ack(_ ack: SIPRequest, over flow: BindingFlow) { sent.withLock { $0.acks.append(ack) } }

    func request(_ request: SIPRequest, over flow: BindingFlow, deadline: Duration) async throws -> SIPResponse {
        sent.withLock {
            $0.requests.append(request)
            $0.requestFlows.append(flow)
        }
        if flow == Self.callManager, !trunkUp.withLock({ $0 }) { throw TrunkDown() }
        return SIPResponse(respondingTo: request, statusCode: 200)
    }

    /// A phone's SRTP answer to the edge's offer: its first codec, its own key.
    static func answer(to offerBody: [UInt8], port: UInt16) throws -> [UInt8] {
        let offer = try SessionDescription(parsing: offerBody)
        let policy = MediaPolicy(
            codecs: [.pcmu, .pcma], srtp: .optional, connectionAddress: "192.0.2.70", keyGenerator: { Array(repeating: 7, count: $0) })
        return try offer.makeAnswer(policy: policy, localPorts: [port], origin: Origin(sessionID: 9, sessionVersion: 1, address: "192.0.2.70"))
            .answer.serialized()
    }
}

/// The relay, in memory: what each leg was told, and whether the call was released.
final class RecordingMedia: MediaRelay, Sendable {
    struct Session: MediaSession {
        let callID: String
        let ports: [Int]
        let log: RecordingMedia

        func update(leg: Int, _ description: MediaLegDescription) async throws -> MediaLegAnswer {
            log.state.withLock { $0.updates.append((callID, leg, description)) }
            let key = description.srtp.map { _ in [UInt8](repeating: UInt8(leg + 1), count: 30) }
            return MediaLegAnswer(port: ports[leg], suite: description.srtp?.suite, keySalt: key)
        }
        func setDirection(leg: Int, _ direction: MediaDirection) async throws {
            log.state.withLock { $0.directions.append((leg, direction)) }
        }
        func answered() async throws {}
        func sendTelephoneEvent(leg: Int, event: UInt8, duration: Duration) async throws {}
        func quality() async throws -> [MediaLegQuality] {
            ports.map { _ in
                MediaLegQuality(
                    packetsReceived: 250, packetsSent: 250, lost: 0, jitterMilliseconds: 1, authenticationFailures: 0, wrongSource: 0,
                    peerReportedFractionLost: nil, peerReportedJitterMilliseconds: nil, encrypted: true)
            }
        }
        func release() async { _ = log.state.withLock { $0.released.insert(callID) } }
    }

    struct State {
        var allocated: [String: Int] = [:]
        var updates: [(String, Int, MediaLegDescription)] = []
        var directions: [(Int, MediaDirection)] = []
        var released: Set<String> = []
        var nextPort = 40_000
    }

    let state = Mutex(State())

    func allocate(callID: String, legs: Int) async throws -> any MediaSession {
        let ports = state.withLock { state in
            state.allocated[callID] = legs
            defer { state.nextPort += 2 * legs }
            return (0..<legs).map { state.nextPort + 2 * $0 }
        }
        return Session(callID: callID, ports: ports, log: self)
    }

    func observe(_ handler: @escaping @Sendable (MediaNotice) -> Void) {}

    var unreleased: Int { state.withLock { $0.allocated.count - $0.released.count } }
}

final class MemoryCallRecords: CallRecordStore {
    let written = Mutex<[String: CallRecord]>([:])
    func write(_ record: CallRecord) async throws { written.withLock { $0[record.id] = record } }
    func closeOpenRecords(endedAt: Int64, reason: String) throws -> [String] { [] }
    var all: [CallRecord] { written.withLock { Array($0.values) } }
}

/// Collects the responses a server transaction would have sent.
final class Replies: Sendable {
    let responses = Mutex<[SIPResponse]>([])
    var reply: @Sendable (SIPResponse) -> Void { { response in self.responses.withLock { $0.append(response) } } }
    var statuses: [Int] { responses.withLock { $0.map(\.statusCode) } }
    var last: SIPResponse? { responses.withLock { $0.last } }

    func waitFinal(timeout: Duration = .seconds(5)) async throws -> SIPResponse {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let final = responses.withLock({ $0.first { $0.statusCode >= 200 } }) { return final }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw CallTestTimeout(what: "a final response (got \(statuses))")
    }
}

struct CallTestTimeout: Error, CustomStringConvertible {
    let what: String
    var description: String { "no \(what) in time" }
}
