import SIP

/// One of the four transaction state machines, as the transaction layer keeps them.
public enum TransactionMachine: Hashable, Sendable {
    case inviteClient(InviteClientTransaction)
    case nonInviteClient(NonInviteClientTransaction)
    case inviteServer(InviteServerTransaction)
    case nonInviteServer(NonInviteServerTransaction)

    /// The request that started the transaction.
    public var request: SIPRequest {
        switch self {
        case .inviteClient(let machine): machine.request
        case .nonInviteClient(let machine): machine.request
        case .inviteServer(let machine): machine.request
        case .nonInviteServer(let machine): machine.request
        }
    }

    public var isServer: Bool {
        switch self {
        case .inviteServer, .nonInviteServer: true
        case .inviteClient, .nonInviteClient: false
        }
    }

    /// The response a server transaction sent last.
    public var lastResponse: SIPResponse? {
        switch self {
        case .inviteServer(let machine): machine.lastResponse
        case .nonInviteServer(let machine): machine.lastResponse
        case .inviteClient, .nonInviteClient: nil
        }
    }

    /// Client events reach client machines only; a server machine returns no action.
    mutating func handle(_ event: ClientTransactionEvent) -> [TransactionAction] {
        switch self {
        case .inviteClient(var machine):
            defer { self = .inviteClient(machine) }
            return machine.handle(event)
        case .nonInviteClient(var machine):
            defer { self = .nonInviteClient(machine) }
            return machine.handle(event)
        case .inviteServer, .nonInviteServer:
            return []
        }
    }

    /// Server events reach server machines only; a client machine returns no action.
    mutating func handle(_ event: ServerTransactionEvent) -> [TransactionAction] {
        switch self {
        case .inviteServer(var machine):
            defer { self = .inviteServer(machine) }
            return machine.handle(event)
        case .nonInviteServer(var machine):
            defer { self = .nonInviteServer(machine) }
            return machine.handle(event)
        case .inviteClient, .nonInviteClient:
            return []
        }
    }

    /// Timers and transport errors mean the same to either side.
    mutating func timerFired(_ timer: TransactionTimer) -> [TransactionAction] {
        isServer ? handle(ServerTransactionEvent.timerFired(timer)) : handle(ClientTransactionEvent.timerFired(timer))
    }

    mutating func transportFailed() -> [TransactionAction] {
        isServer ? handle(ServerTransactionEvent.transportError) : handle(ClientTransactionEvent.transportError)
    }
}
