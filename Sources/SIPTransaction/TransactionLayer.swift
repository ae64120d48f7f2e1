import SIP

/// The table of running transactions: it matches messages to machines, runs their timers against
/// the time the caller passes in, and removes machines that terminate.
///
/// Nothing here reads a clock or touches a socket. The I/O shell passes `now` with every call,
/// carries out the returned actions in order, and schedules one wake-up at `nextDeadline` that
/// calls `advance(to:)`. `Context` is the shell's own value for where a message goes (a
/// connection, a remote address); responses of a server transaction go back with the context of
/// its request.
public struct TransactionLayer<Context: Hashable & Sendable, Instant: InstantProtocol>: Sendable
where Instant.Duration == Duration {
    public enum Action: Hashable, Sendable {
        /// Send the message with the context of its transaction.
        case send(SIPMessage, context: Context, transaction: TransactionID)
        /// For the TU: a response of a client transaction, or the request (or a matched ACK for a
        /// 2xx) of a server transaction.
        case passToTU(SIPMessage, transaction: TransactionID)
        /// The transaction gave up when this timer (B, F or H) fired.
        case timedOut(TransactionID, TransactionTimer)
        case transportError(TransactionID)
        /// The transaction has left the table; its ID is no longer valid.
        case terminated(TransactionID)
    }

    /// Where a received message went.
    public enum Routing: Hashable, Sendable {
        /// To a running transaction. No action means it absorbed a retransmission.
        case matched(TransactionID, [Action])
        /// A new request started a server transaction; the request for the TU is among the actions.
        case created(TransactionID, [Action])
        /// An ACK no INVITE server transaction claims: the ACK for a 2xx, which the TU matches to
        /// its dialog (§13.3.1.4), or a stray one.
        case unmatchedACK(SIPRequest)
        /// A response no client transaction claims. A UA discards it (RFC 6026 §7.1.2); a proxy
        /// forwards it statelessly.
        case unmatchedResponse(SIPResponse)
        /// A request the layer could not take; the shell answers it statelessly (400, 503), unless
        /// it is an ACK, which never gets a response.
        case refused(SIPRequest, TransactionLayerError)
    }

    private struct Entry: Sendable {
        var machine: TransactionMachine
        var context: Context
        var index: Index
        var armedTimers: [TransactionTimer: UInt64] = [:]
    }

    private enum Index: Hashable, Sendable {
        case client(ClientTransactionKey)
        case server(ServerTransactionKey)
    }

    public let capacity: Int
    public let timers: TransactionTimers
    private var entries: [TransactionID: Entry] = [:]
    private var clientIndex: [ClientTransactionKey: TransactionID] = [:]
    // More than one transaction per key only happens for RFC 2543 requests that differ in the To tag.
    private var serverIndex: [ServerTransactionKey: [TransactionID]] = [:]
    private var timerQueue = TimerQueue<Instant>()
    private var lastTransactionNumber: UInt64 = 0
    private var lastTicket: UInt64 = 0

    public init(capacity: Int = 10_000, timers: TransactionTimers = TransactionTimers()) {
        self.capacity = capacity
        self.timers = timers
    }

    /// How many transactions are running.
    public var count: Int { entries.count }

    /// When `advance(to:)` next has work to do; nil when no timer is armed.
    public var nextDeadline: Instant? { timerQueue.top?.deadline }

    /// The machine of a running transaction.
    public func machine(_ transaction: TransactionID) -> TransactionMachine? { entries[transaction]?.machine }

    // MARK: Calls from the TU

    /// Starts a client transaction for a request the TU sends.
    public mutating func sendRequest(
        _ request: SIPRequest, over reliability: TransportReliability, context: Context, now: Instant
    ) throws(TransactionLayerError) -> (transaction: TransactionID, actions: [Action]) {
        guard request.method != .ack else { throw .ackIsNotATransaction }
        let key: ClientTransactionKey
        do { key = try ClientTransactionKey(request: request) } catch { throw .malformed(error) }
        guard clientIndex[key] == nil else { throw .duplicate(key) }
        guard entries.count < capacity else { throw .full(capacity: capacity) }

        let machine: TransactionMachine
        let actions: [TransactionAction]
        if request.method == .invite {
            let started = InviteClientTransaction.start(request: request, over: reliability, timers: timers)
            (machine, actions) = (.inviteClient(started.transaction), started.actions)
        } else {
            let started = NonInviteClientTransaction.start(request: request, over: reliability, timers: timers)
            (machine, actions) = (.nonInviteClient(started.transaction), started.actions)
        }
        let id = insert(Entry(machine: machine, context: context, index: .client(key)))
        clientIndex[key] = id
        return (id, apply(actions, to: id, now: now))
    }

    /// Gives the TU's response to a server transaction.
    public mutating func respond(
        _ response: SIPResponse, to transaction: TransactionID, now: Instant
    ) throws(TransactionLayerError) -> [Action] {
        guard let entry = entries[transaction] else { throw .unknownTransaction(transaction) }
        guard entry.machine.isServer else { throw .notAServerTransaction(transaction) }
        let actions = entries[transaction]!.machine.handle(ServerTransactionEvent.respond(response))
        return apply(actions, to: transaction, now: now)
    }

    /// The INVITE server transaction a received CANCEL cancels (§9.2), for the TU to answer
    /// `487` on once it has answered the CANCEL itself.
    public func inviteTransaction(cancelledBy cancel: SIPRequest) -> TransactionID? {
        guard cancel.method == .cancel, let key = try? ServerTransactionKey(request: cancel) else { return nil }
        return serverIndex[key.cancelledInvite]?.first { id in
            guard let machine = entries[id]?.machine, case .inviteServer = machine else { return false }
            guard case .rfc2543 = key else { return true }
            // A CANCEL carries the To of the INVITE, so it compares like a retransmission would.
            return ServerTransactionKey.rfc2543ToTagMatches(cancel, original: machine.request, lastResponse: nil)
        }
    }

    // MARK: Calls from the transport

    /// Routes a message the transport received.
    public mutating func receive(
        _ message: SIPMessage, over reliability: TransportReliability, context: Context, now: Instant
    ) -> Routing {
        switch message {
        case .response(let response): receive(response, now: now)
        case .request(let request): receive(request, over: reliability, context: context, now: now)
        }
    }

    /// Reports that the transport could not send a message of this transaction. A transaction
    /// that has already gone needs nothing.
    public mutating func transportFailed(_ transaction: TransactionID, now: Instant) -> [Action] {
        guard entries[transaction] != nil else { return [] }
        let actions = entries[transaction]!.machine.transportFailed()
        return apply(actions, to: transaction, now: now)
    }

    // MARK: Time

    /// Fires every timer whose deadline is at or before `now`, in deadline order.
    public mutating func advance(to now: Instant) -> [Action] {
        var result: [Action] = []
        while let due = timerQueue.top, due.deadline <= now {
            timerQueue.popTop()
            guard entries[due.transaction]?.armedTimers[due.timer] == due.ticket else { continue }
            entries[due.transaction]?.armedTimers[due.timer] = nil
            let actions = entries[due.transaction]?.machine.timerFired(due.timer) ?? []
            result += apply(actions, to: due.transaction, now: now)
            dropCancelledTimers()
        }
        return result
    }

    // MARK: Routing

    private mutating func receive(_ response: SIPResponse, now: Instant) -> Routing {
        guard let key = try? ClientTransactionKey(response: response), let id = clientIndex[key] else {
            return .unmatchedResponse(response)
        }
        let actions = entries[id]!.machine.handle(ClientTransactionEvent.received(response))
        return .matched(id, apply(actions, to: id, now: now))
    }

    private mutating func receive(
        _ request: SIPRequest, over reliability: TransportReliability, context: Context, now: Instant
    ) -> Routing {
        let key: ServerTransactionKey
        do { key = try ServerTransactionKey(request: request) } catch { return .refused(request, .malformed(error)) }

        if let id = serverTransaction(for: request, key: key) {
            // A retransmission that arrives over a new connection means the old one is gone, so
            // responses follow the newest context.
            entries[id]!.context = context
            let actions = entries[id]!.machine.handle(ServerTransactionEvent.received(request))
            return .matched(id, apply(actions, to: id, now: now))
        }
        if request.method == .ack { return .unmatchedACK(request) }
        guard entries.count < capacity else { return .refused(request, .full(capacity: capacity)) }

        let machine: TransactionMachine
        let actions: [TransactionAction]
        if request.method == .invite {
            let started = InviteServerTransaction.start(request: request, over: reliability, timers: timers)
            (machine, actions) = (.inviteServer(started.transaction), started.actions)
        } else {
            let started = NonInviteServerTransaction.start(request: request, over: reliability, timers: timers)
            (machine, actions) = (.nonInviteServer(started.transaction), started.actions)
        }
        let id = insert(Entry(machine: machine, context: context, index: .server(key)))
        serverIndex[key, default: []].append(id)
        return .created(id, apply(actions, to: id, now: now))
    }

    private func serverTransaction(for request: SIPRequest, key: ServerTransactionKey) -> TransactionID? {
        guard let candidates = serverIndex[key] else { return nil }
        guard case .rfc2543 = key else { return candidates.first }
        return candidates.first { id in
            guard let machine = entries[id]?.machine else { return false }
            return ServerTransactionKey.rfc2543ToTagMatches(
                request, original: machine.request, lastResponse: machine.lastResponse)
        }
    }

    // MARK: Bookkeeping

    private mutating func insert(_ entry: Entry) -> TransactionID {
        lastTransactionNumber += 1
        let id = TransactionID(rawValue: lastTransactionNumber)
        entries[id] = entry
        return id
    }

    /// Carries out the timer and table actions of a machine and returns those for the shell.
    private mutating func apply(_ actions: [TransactionAction], to id: TransactionID, now: Instant) -> [Action] {
        var result: [Action] = []
        for action in actions {
            switch action {
            case .send(let message):
                guard let context = entries[id]?.context else { continue }
                result.append(.send(message, context: context, transaction: id))
            case .startTimer(let timer, let delay):
                lastTicket += 1
                entries[id]?.armedTimers[timer] = lastTicket
                timerQueue.push(.init(deadline: now.advanced(by: delay), ticket: lastTicket, transaction: id, timer: timer))
            case .cancelTimer(let timer):
                entries[id]?.armedTimers[timer] = nil
            case .passToTU(let message):
                result.append(.passToTU(message, transaction: id))
            case .timedOut(let timer):
                result.append(.timedOut(id, timer))
            case .transportError:
                result.append(.transportError(id))
            case .terminated:
                remove(id)
                result.append(.terminated(id))
            }
        }
        dropCancelledTimers()
        return result
    }

    private mutating func remove(_ id: TransactionID) {
        guard let entry = entries.removeValue(forKey: id) else { return }
        switch entry.index {
        case .client(let key):
            clientIndex[key] = nil
        case .server(let key):
            serverIndex[key]?.removeAll { $0 == id }
            if serverIndex[key]?.isEmpty == true { serverIndex[key] = nil }
        }
    }

    /// Keeps the top of the queue a live timer, so `nextDeadline` never wakes the shell for nothing.
    private mutating func dropCancelledTimers() {
        while let top = timerQueue.top, entries[top.transaction]?.armedTimers[top.timer] != top.ticket {
            timerQueue.popTop()
        }
    }
}
