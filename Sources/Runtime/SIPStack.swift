import Edge
import Logging
import NIOCore
import SIP
import SIPTransaction
import SIPTransport
import Synchronization

/// The edge's SIP stack in both directions: received messages go through the pure transaction
/// layer to the core (server transactions) or back to whoever sent a request (client
/// transactions); requests the edge originates go out through the same layer, so every
/// retransmission, timer and match follows RFC 3261 §17.
///
/// The transaction tables are sharded by connection: a connection's messages are handled on its
/// event loop and always reach the same shard, so loops do not contend for one lock.
final class SIPStack: SIPMessageReceiver {
    typealias Layer = TransactionLayer<SIPSource, ContinuousClock.Instant>

    /// Why a request the edge sent got no final response.
    enum ClientFailure: Error, CustomStringConvertible, Equatable {
        /// The transaction gave up (Timer B or F), or the caller's deadline passed first.
        case timeout(String)
        case transport(String)
        case refused(String)

        var description: String {
            switch self {
            case .timeout(let what): "no answer within \(what)"
            case .transport(let reason): reason
            case .refused(let reason): "not sent: \(reason)"
            }
        }
    }

    private struct Pending {
        let continuation: CheckedContinuation<SIPResponse, any Error>
        let connection: SIPConnectionID
        let remote: String
        var deadline: Scheduled<Void>?
        /// Each 1xx of an INVITE the edge sent, for the call that waits on its final response.
        var provisional: (@Sendable (SIPResponse) -> Void)?
    }

    private struct ShardState {
        var layer: Layer
        var armedDeadline: ContinuousClock.Instant?
        var armedTimer: Scheduled<Void>?
        var pending: [TransactionID: Pending] = [:]
    }

    private final class Shard: Sendable {
        let state: Mutex<ShardState>
        let timerLoop: any EventLoop
        init(layer: Layer, timerLoop: any EventLoop) {
            state = Mutex(ShardState(layer: layer))
            self.timerLoop = timerLoop
        }
    }

    private let shards: [Shard]
    /// Set once by `attach`, before any listener opens, and only read afterwards: a lock here
    /// would be taken for every request on every loop.
    nonisolated(unsafe) private var core: EdgeCore?
    private let sender: SIPSender
    private let logger: Logger
    private let clock = ContinuousClock()
    let statistics = TransactionStatistics()

    init(sender: SIPSender, timerLoops: [any EventLoop], timers: TransactionTimers, capacity: Int, logger: Logger) {
        let perShard = max(1, capacity / max(1, timerLoops.count))
        shards = timerLoops.map { Shard(layer: Layer(capacity: perShard, timers: timers), timerLoop: $0) }
        self.sender = sender
        self.logger = logger
    }

    /// The transaction user for requests the edge receives; set before the listeners open.
    func attach(_ core: EdgeCore) {
        self.core = core
    }

    private func shard(for connection: SIPConnectionID) -> Int { Int(connection.rawValue % UInt64(shards.count)) }

    // MARK: Received messages

    func receive(_ message: SIPMessage, from source: SIPSource) {
        let index = shard(for: source.connection)
        let shard = shards[index]
        let now = clock.now
        let reliability: TransportReliability = source.transport.isReliable ? .reliable : .unreliable
        let routing = shard.state.withLock { $0.layer.receive(message, over: reliability, context: source, now: now) }
        switch routing {
        case .created(_, let actions), .matched(_, let actions):
            if actions.isEmpty { statistics.increment(.retransmissionsAbsorbed) }
            perform(actions, shard: index, source: source)
        case .unmatchedACK(let ack):
            // An ACK for a 2xx belongs to its dialog, which the call layer holds.
            statistics.increment(.unmatchedACKs)
            core?.calls?.handleACK(ack)
        case .unmatchedResponse:
            statistics.increment(.strayResponses)
        case .refused(let request, let error):
            statistics.increment(.refused)
            logger.warning("transaction refused", metadata: ["error": "\(error)", "call-id": "\(request.headers[.callID] ?? "")"])
            let status = if case .full = error { 503 } else { 400 }
            var response = SIPResponse(
                respondingTo: request, statusCode: status, reasonPhrase: "\(error)".prefix(100).description, toTag: SIPIdentifiers.tag())
            if status == 503 { response.headers.append(.retryAfter, "5") }
            sender.sendResponse(response, to: source)
        }
        armTimer(index)
    }

    // MARK: Requests the edge sends

    /// Sends `request` as a client transaction over the connection `context` names (its Via
    /// names `context.local`), and returns the final response. Fails when the transaction times
    /// out (Timer B or F), when `deadline` passes first, or when the transport fails.
    func request(_ request: SIPRequest, over context: SIPSource, deadline: Duration? = nil) async throws -> SIPResponse {
        try await start(try withOwnVia(request, over: context), over: context, deadline: deadline, provisional: nil)
    }

    /// Sends an INVITE as a client transaction: `sent` gets it with the edge's Via before it goes
    /// out (a CANCEL is built from it), `provisional` every 1xx; returns the final response.
    func invite(
        _ request: SIPRequest, over context: SIPSource, sent: @Sendable (SIPRequest) -> Void,
        provisional: @escaping @Sendable (SIPResponse) -> Void
    ) async throws -> SIPResponse {
        let outgoing = try withOwnVia(request, over: context)
        sent(outgoing)
        return try await start(outgoing, over: context, deadline: nil, provisional: provisional)
    }

    /// Sends a CANCEL built from a sent INVITE: it keeps the INVITE's Via, so it is matched to it (§9.1).
    func cancel(_ cancel: SIPRequest, over context: SIPSource, deadline: Duration) async throws -> SIPResponse {
        try await start(cancel, over: context, deadline: deadline, provisional: nil)
    }

    /// Sends the ACK for a 2xx, which is no transaction (§17.1.1.3): a Via of its own, sent once.
    func sendACK(_ ack: SIPRequest, over context: SIPSource) {
        guard let outgoing = try? withOwnVia(ack, over: context) else { return }
        _ = sender.send(outgoing.serialized, over: context.connection, to: context.remote)
    }

    private func withOwnVia(_ request: SIPRequest, over context: SIPSource) throws -> SIPRequest {
        guard let local = context.local, let host = local.ipAddress, let port = local.port else {
            throw ClientFailure.refused("the connection to \(context.remote) has no local address")
        }
        var outgoing = request
        let sentBy = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        outgoing.headers.insert(.via, "SIP/2.0/\(context.transport.rawValue) \(sentBy);branch=\(SIPIdentifiers.branch());rport", at: 0)
        return outgoing
    }

    private func start(
        _ outgoing: SIPRequest, over context: SIPSource, deadline: Duration?, provisional: (@Sendable (SIPResponse) -> Void)?
    ) async throws -> SIPResponse {
        let index = shard(for: context.connection)
        let shard = shards[index]
        let remote = "\(context.transport.rawValue.lowercased()):\(context.remote.ipAddress ?? "?"):\(context.remote.port ?? 0)"
        let reliability: TransportReliability = context.transport.isReliable ? .reliable : .unreliable
        let started = Mutex<TransactionID?>(nil)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<SIPResponse, any Error>) in
                let now = clock.now
                let outcome = shard.state.withLock { state -> Result<(TransactionID, [Layer.Action]), TransactionLayerError> in
                    do throws(TransactionLayerError) {
                        let (id, actions) = try state.layer.sendRequest(outgoing, over: reliability, context: context, now: now)
                        state.pending[id] = Pending(
                            continuation: continuation, connection: context.connection, remote: remote, provisional: provisional)
                        return .success((id, actions))
                    } catch {
                        return .failure(error)
                    }
                }
                switch outcome {
                case .failure(let error):
                    statistics.increment(.clientRefused)
                    continuation.resume(throwing: ClientFailure.refused("\(error)"))
                case .success(let (id, actions)):
                    statistics.increment(.clientStarted)
                    started.withLock { $0 = id }
                    if let deadline { armDeadline(deadline, for: id, shard: index) }
                    perform(actions, shard: index)
                    armTimer(index)
                }
            }
        } onCancel: {
            if let id = started.withLock({ $0 }) { finish(id, shard: index, with: .failure(ClientFailure.transport("cancelled"))) }
        }
    }

    private func armDeadline(_ deadline: Duration, for id: TransactionID, shard index: Int) {
        let shard = shards[index]
        let scheduled = shard.timerLoop.scheduleTask(in: TimeAmount(deadline)) { [self] in
            guard let pending = shard.state.withLock({ $0.pending[id] }) else { return }
            statistics.increment(.clientDeadlines)
            finish(id, shard: index, with: .failure(ClientFailure.timeout("\(deadline.readable) from \(pending.remote)")))
        }
        let kept = shard.state.withLock { state -> Bool in
            guard state.pending[id] != nil else { return false }
            state.pending[id]!.deadline = scheduled
            return true
        }
        if !kept { scheduled.cancel() }
    }

    /// Resumes the caller of a client transaction once; later outcomes find nothing to resume.
    private func finish(_ id: TransactionID, shard index: Int, with result: Result<SIPResponse, any Error>) {
        guard let pending = shards[index].state.withLock({ $0.pending.removeValue(forKey: id) }) else { return }
        pending.deadline?.cancel()
        pending.continuation.resume(with: result)
    }

    // MARK: Actions

    /// `source` is where the received message that caused these actions came from.
    private func perform(_ actions: [Layer.Action], shard index: Int, source: SIPSource? = nil) {
        for action in actions {
            switch action {
            case .send(.response(let response), let context, _):
                sender.sendResponse(response, to: context)
            case .send(.request(let request), let context, let transaction):
                let written = sender.send(request.serialized, over: context.connection, to: context.remote)
                if written == nil {
                    transportFailed(transaction, shard: index, reason: "the connection to \(context.remote) is closed")
                }
                written?.whenFailure { [self] error in transportFailed(transaction, shard: index, reason: "\(error)") }
            case .passToTU(.request(let request), let transaction):
                guard let core, let source else { continue }
                let decision = core.handle(request, from: RequestOrigin(source)) { [self] response in
                    respond(response, to: transaction, shard: index)
                    armTimer(index)
                }
                if case .respond(let response?) = decision { respond(response, to: transaction, shard: index) }
            case .passToTU(.response(let response), let transaction):
                guard response.statusCode >= 200 else {
                    shards[index].state.withLock { $0.pending[transaction]?.provisional }?(response)
                    continue
                }
                let waiting = shards[index].state.withLock { $0.pending[transaction] != nil }
                if waiting {
                    statistics.increment(.clientAnswered)
                    finish(transaction, shard: index, with: .success(response))
                } else {
                    // The caller's deadline passed, or a retransmitted 2xx of an INVITE, whose
                    // lost ACK the call sends again (§13.2.2.4).
                    statistics.increment(.lateResponses)
                    if response.isSuccess { core?.calls?.handleRetransmittedSuccess(response) }
                }
            case .timedOut(let transaction, let timer):
                statistics.increment(.timeouts)
                let remote = shards[index].state.withLock { $0.pending[transaction]?.remote } ?? "?"
                finish(transaction, shard: index, with: .failure(ClientFailure.timeout("\(timer) (\(remote))")))
            case .transportError(let transaction):
                statistics.increment(.transportErrors)
                finish(transaction, shard: index, with: .failure(ClientFailure.transport("transport error")))
            case .terminated(let transaction):
                finish(transaction, shard: index, with: .failure(ClientFailure.transport("transaction ended without a final response")))
            }
        }
    }

    /// A connection the edge sent requests over has closed: its client transactions fail now
    /// rather than at Timer B or F.
    func connectionClosed(_ connection: SIPConnectionID, reason: String) {
        let index = shard(for: connection)
        let orphans = shards[index].state.withLock { state in state.pending.filter { $0.value.connection == connection }.map(\.key) }
        for transaction in orphans { transportFailed(transaction, shard: index, reason: reason) }
    }

    private func transportFailed(_ transaction: TransactionID, shard index: Int, reason: String) {
        let now = clock.now
        let remote = shards[index].state.withLock { $0.pending[transaction]?.remote } ?? "?"
        let actions = shards[index].state.withLock { $0.layer.transportFailed(transaction, now: now) }
        // The reason goes to the caller before the layer's own transport error, which carries none.
        finish(transaction, shard: index, with: .failure(ClientFailure.transport("\(remote): \(reason)")))
        perform(actions, shard: index)
        armTimer(index)
    }

    private func respond(_ response: SIPResponse, to transaction: TransactionID, shard index: Int) {
        if let counter = TransactionStatistics.Counter.responses(status: response.statusCode) { statistics.increment(counter) }
        let now = clock.now
        let outcome = shards[index].state.withLock { state in
            Result { () throws(TransactionLayerError) -> [Layer.Action] in try state.layer.respond(response, to: transaction, now: now) }
        }
        switch outcome {
        case .success(let actions): perform(actions, shard: index)
        case .failure(let error): logger.error("response for a vanished transaction", metadata: ["error": "\(error)"])
        }
    }

    // MARK: Timers

    private func fireTimers(_ index: Int) {
        let now = clock.now
        let actions = shards[index].state.withLock { state in
            state.armedDeadline = nil
            state.armedTimer = nil
            return state.layer.advance(to: now)
        }
        perform(actions, shard: index)
        armTimer(index)
    }

    /// Keeps one scheduled wake-up per shard at its layer's earliest deadline.
    private func armTimer(_ index: Int) {
        let now = clock.now
        let shard = shards[index]
        shard.state.withLock { state in
            guard let deadline = state.layer.nextDeadline else { return }
            if let armed = state.armedDeadline, armed <= deadline { return }
            state.armedTimer?.cancel()
            state.armedDeadline = deadline
            state.armedTimer = shard.timerLoop.scheduleTask(in: TimeAmount(now.duration(to: deadline))) { [self] in fireTimers(index) }
        }
    }

    var activeTransactions: Int { shards.reduce(0) { total, shard in total + shard.state.withLock { $0.layer.count } } }
}

/// What the transaction layer did, counted for `outpost show sip`: server-side absorptions and
/// refusals, and the fate of every client transaction the edge started.
final class TransactionStatistics: Sendable {
    enum Counter: String, CaseIterable {
        case retransmissionsAbsorbed = "retransmissions_absorbed"
        case strayResponses = "stray_responses"
        case unmatchedACKs = "unmatched_acks"
        /// Timer B, F or H gave up.
        case timeouts
        case transportErrors = "transport_errors"
        case refused
        case clientStarted = "client_started"
        case clientAnswered = "client_answered"
        /// The caller's own deadline passed before the transaction's timers did.
        case clientDeadlines = "client_deadlines"
        case clientRefused = "client_refused"
        /// Final responses that arrived after the caller stopped waiting.
        case lateResponses = "late_responses"
        /// Responses the edge's server transactions sent, by class.
        case responses1xx = "responses_1xx", responses2xx = "responses_2xx", responses3xx = "responses_3xx"
        case responses4xx = "responses_4xx", responses5xx = "responses_5xx", responses6xx = "responses_6xx"

        /// Each response class with its counter, 1xx first.
        static let responseClasses: [(String, Counter)] = [
            ("1xx", .responses1xx), ("2xx", .responses2xx), ("3xx", .responses3xx), ("4xx", .responses4xx), ("5xx", .responses5xx),
            ("6xx", .responses6xx),
        ]

        static func responses(status: Int) -> Counter? {
            (1...6).contains(status / 100) ? responseClasses[status / 100 - 1].1 : nil
        }
    }

    private let values = Mutex([Int](repeating: 0, count: Counter.allCases.count))

    func increment(_ counter: Counter) {
        let index = Counter.allCases.firstIndex(of: counter)!
        values.withLock { $0[index] += 1 }
    }

    subscript(counter: Counter) -> Int { values.withLock { $0[Counter.allCases.firstIndex(of: counter)!] } }

    func snapshot() -> [String: Int] {
        let current = values.withLock { $0 }
        return Dictionary(uniqueKeysWithValues: zip(Counter.allCases.map(\.rawValue), current))
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(max(0, seconds * 1_000_000_000 + attoseconds / 1_000_000_000))
    }
}
