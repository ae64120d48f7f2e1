import Edge
import Logging
import PKI
import SIP
import Synchronization

/// An inventory of three phones: an encrypted Cisco, an authenticated one, and a non-secure
/// softphone with digest credentials.
enum RegistrarFixtures {
    /// The digests Runtime gives the registrar: OpenSSL's EVP.
    static let hashing = OpenSSLDigests.hashing(fipsMode: false)

    static let inventory = try! DeviceInventory([
        Device(name: "SEP001BD4AABBCC", lines: [DeviceLine(number: "2001")], security: .encrypted),
        Device(name: "SEP001BD4AABBDD", lines: [DeviceLine(number: "2002"), DeviceLine(number: "2012")], security: .authenticated),
        Device(name: "soft-3001", lines: [DeviceLine(number: "3001")], security: .nonSecure, digest: DigestAccount(username: "3001", password: "s3cret")),
    ])

    static let udp = RequestOrigin(flow: BindingFlow(transport: .udp, remoteAddress: "192.0.2.50", remotePort: 5060))
    static func tls(_ names: [String], connection: UInt64 = 7) -> RequestOrigin {
        RequestOrigin(flow: BindingFlow(transport: .tls, remoteAddress: "192.0.2.60", remotePort: 40000, connection: connection), certificateNames: names)
    }

    static func register(
        _ user: String, contacts: [String] = ["<sip:\(UUIDLike.next())@192.0.2.50:5060>"], expires: Int? = nil, callID: String = "call-1",
        cseq: UInt32 = 1, extra: [(SIPHeaderName, String)] = []
    ) -> SIPRequest {
        var headers: SIPHeaders = [
            (.via, "SIP/2.0/UDP 192.0.2.50:5060;branch=z9hG4bK\(UUIDLike.next())"), (.maxForwards, "70"),
            (.from, "<sip:\(user)@branch.example>;tag=f1"), (.to, "<sip:\(user)@branch.example>"), (.callID, callID),
            (.cseq, "\(cseq) REGISTER"),
        ]
        for contact in contacts { headers.append(.contact, contact) }
        if let expires { headers.append(.expires, String(expires)) }
        for (name, value) in extra { headers.append(name, value) }
        return SIPRequest(method: .register, uri: try! URI(parsing: "sip:branch.example"), headers: headers)
    }

    /// Adds credentials answering `challenge` as user/password.
    static func answering(_ request: SIPRequest, challenge: SIPResponse, username: String, password: String, nonceCount: UInt32 = 1, algorithmIndex: Int = 0) throws -> SIPRequest {
        let challenges = try challenge.headers.digestChallenges()
        let credentials = try DigestCredentials.answering(
            challenges[algorithmIndex], username: username, password: password, method: "REGISTER", uri: "sip:branch.example", cnonce: "abc",
            nonceCount: nonceCount, using: hashing)
        var answered = request
        answered.headers.append(.authorization, credentials.description)
        return answered
    }
}

enum UUIDLike {
    private static let counter = Atomic<Int>(0)
    static func next() -> String { "u\(counter.add(1, ordering: .relaxed).newValue)" }
}

/// A journal that keeps writes in memory and completes them when told (or at once).
final class MemoryJournal: BindingJournal, Sendable {
    private let state = Mutex<(sets: [String: [Binding]], held: [@Sendable () -> Void], holding: Bool, failing: Bool)>(([:], [], false, false))

    func write(addressOfRecord: String, bindings: [Binding], completion: @escaping @Sendable (Result<Void, any Error>) -> Void) {
        let run: @Sendable () -> Void = { [self] in
            let failing = state.withLock { state -> Bool in
                if !state.failing { state.sets[addressOfRecord] = bindings.isEmpty ? nil : bindings }
                return state.failing
            }
            completion(failing ? .failure(JournalFailure()) : .success(()))
        }
        let holding = state.withLock { state -> Bool in
            if state.holding { state.held.append(run) }
            return state.holding
        }
        if !holding { run() }
    }

    func loadBindings() throws -> [Binding] { state.withLock { $0.sets.values.flatMap { $0 } } }

    func hold() { state.withLock { $0.holding = true } }
    func fail() { state.withLock { $0.failing = true } }
    func release() {
        let held = state.withLock { state -> [@Sendable () -> Void] in
            state.holding = false
            defer { state.held = [] }
            return state.held
        }
        for run in held { run() }
    }
    var stored: [String: [Binding]] { state.withLock { $0.sets } }
}

struct JournalFailure: Error {}

/// A call manager that answers with a canned status, or fails, counting what it got.
final class FakeUpstream: RegistrationUpstream, Sendable {
    let behaviour = Mutex<Result<Int, TestUpstreamFailure>>(.success(200))
    let received = Mutex<[SIPRequest]>([])

    /// Like the real trunk, the request leaves with the edge's own Via on top, so the answer
    /// comes back with it.
    func relay(_ request: SIPRequest) async throws -> SIPResponse {
        received.withLock { $0.append(request) }
        switch behaviour.withLock({ $0 }) {
        case .failure(let failure): throw failure
        case .success(let status):
            var sent = request
            sent.headers.insert(.via, "SIP/2.0/TLS 198.51.100.1:40001;branch=\(SIPIdentifiers.branch());rport", at: 0)
            var response = SIPResponse(respondingTo: sent, statusCode: status, reasonPhrase: "X", toTag: "up")
            if status == 200 {
                for contact in request.headers.lines(.contact) { response.headers.append(.contact, contact.contains("expires") ? contact : contact + ";expires=1800") }
            }
            return response
        }
    }
}

struct TestUpstreamFailure: Error {}

extension Logger {
    static let quiet = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
}
