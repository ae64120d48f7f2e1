import Edge
import Logging
import NIOCore
import SIP
import SIPTransaction
import SIPTransport
import Synchronization

/// Runs the pure transaction layer for the transports: messages in, the core as transaction
/// user, responses out, and one event-loop timer armed for the earliest transaction deadline.
final class TransactionDispatcher: SIPMessageReceiver {
    typealias Layer = TransactionLayer<SIPSource, ContinuousClock.Instant>

    private struct State {
        var layer: Layer
        var armedDeadline: ContinuousClock.Instant?
        var armedTimer: Scheduled<Void>?
    }

    private let state: Mutex<State>
    private let core: EdgeCore
    private let sender: SIPSender
    private let timerLoop: any EventLoop
    private let logger: Logger
    private let clock = ContinuousClock()
    let statistics = TransactionStatistics()

    init(core: EdgeCore, sender: SIPSender, timerLoop: any EventLoop, timers: TransactionTimers, capacity: Int, logger: Logger) {
        self.state = Mutex(State(layer: Layer(capacity: capacity, timers: timers)))
        self.core = core
        self.sender = sender
        self.timerLoop = timerLoop
        self.logger = logger
    }

    func receive(_ message: SIPMessage, from source: SIPSource) {
        let now = clock.now
        let reliability: TransportReliability = source.transport.isReliable ? .reliable : .unreliable
        let routing = state.withLock { $0.layer.receive(message, over: reliability, context: source, now: now) }
        switch routing {
        case .created(_, let actions), .matched(_, let actions):
            if actions.isEmpty { statistics.increment(.retransmissionsAbsorbed) }
            perform(actions, source: source)
        case .unmatchedACK(let ack):
            // An ACK for a 2xx belongs to a dialog; the edge has none yet, so it ends here.
            _ = core.handle(ack) as EdgeCore.Handling
        case .unmatchedResponse:
            statistics.increment(.strayResponses)
        case .refused(let request, let error):
            statistics.increment(.refused)
            logger.warning("transaction refused", metadata: ["error": "\(error)", "call-id": "\(request.headers[.callID] ?? "")"])
            let status = if case .full = error { 503 } else { 400 }
            var response = SIPResponse(respondingTo: request, statusCode: status, reasonPhrase: "\(error)".prefix(100).description, toTag: SIPIdentifiers.tag())
            if status == 503 { response.headers.append(.retryAfter, "5") }
            sender.sendResponse(response, to: source)
        }
        armTimer()
    }

    /// `source` is where the received message that caused these actions came from.
    private func perform(_ actions: [Layer.Action], source: SIPSource? = nil) {
        for action in actions {
            switch action {
            case .send(.response(let response), let context, _):
                sender.sendResponse(response, to: context)
            case .send(.request(let request), let context, _):
                sender.send(request.serialized, over: context.connection, to: context.remote)
            case .passToTU(.request(let request), let transaction):
                switch core.handle(request) {
                case .answered(let response?): respond(response, to: transaction)
                case .answered(nil): continue
                case .register(let registrar):
                    guard let source else { continue }
                    registrar.handle(request, origin: RequestOrigin(source)) { [self] response in
                        respond(response, to: transaction)
                        armTimer()
                    }
                }
            case .passToTU(.response, _):
                // The edge starts no client transactions yet.
                statistics.increment(.strayResponses)
            case .timedOut:
                statistics.increment(.timeouts)
            case .transportError:
                statistics.increment(.transportErrors)
            case .terminated:
                continue
            }
        }
    }

    private func respond(_ response: SIPResponse, to transaction: TransactionID) {
        let now = clock.now
        let outcome = state.withLock { state in
            Result { () throws(TransactionLayerError) -> [Layer.Action] in try state.layer.respond(response, to: transaction, now: now) }
        }
        switch outcome {
        case .success(let actions): perform(actions)
        case .failure(let error): logger.error("response for a vanished transaction", metadata: ["error": "\(error)"])
        }
    }

    private func fireTimers() {
        let now = clock.now
        let actions = state.withLock { state in
            state.armedDeadline = nil
            state.armedTimer = nil
            return state.layer.advance(to: now)
        }
        perform(actions)
        armTimer()
    }

    /// Keeps one scheduled wake-up at the layer's earliest deadline.
    private func armTimer() {
        let now = clock.now
        state.withLock { state in
            guard let deadline = state.layer.nextDeadline else { return }
            if let armed = state.armedDeadline, armed <= deadline { return }
            state.armedTimer?.cancel()
            let delay = now.duration(to: deadline)
            let nanoseconds = max(0, delay.components.seconds * 1_000_000_000 + delay.components.attoseconds / 1_000_000_000)
            state.armedDeadline = deadline
            state.armedTimer = timerLoop.scheduleTask(in: .nanoseconds(nanoseconds)) { [self] in fireTimers() }
        }
    }

    var activeTransactions: Int { state.withLock { $0.layer.count } }
}

/// What the transaction layer did that nobody asked for: absorbed retransmissions, stray
/// responses, timeouts, refusals.
final class TransactionStatistics: Sendable {
    enum Counter: Int, CaseIterable {
        case retransmissionsAbsorbed, strayResponses, timeouts, transportErrors, refused
    }

    private let values = Mutex([Int](repeating: 0, count: Counter.allCases.count))

    func increment(_ counter: Counter) { values.withLock { $0[counter.rawValue] += 1 } }
    subscript(counter: Counter) -> Int { values.withLock { $0[counter.rawValue] } }
}
