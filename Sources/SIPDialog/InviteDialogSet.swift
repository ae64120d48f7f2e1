import SIP

/// What the caller of an `InviteDialogSet` must do after a response.
public enum ForkAction: Hashable, Sendable {
    /// A fork answered with a 1xx and a new To tag: a new early dialog exists.
    case earlyDialogCreated(DialogID)
    /// The first 2xx: this dialog is the call. The caller ACKs it with `makeAck(forInviteSequence:)`,
    /// because only the caller knows whether the ACK carries the answer.
    case confirmed(DialogID)
    /// A retransmission of the chosen 2xx: the caller sends its ACK again (§13.2.2.4).
    case resendAck(DialogID)
    /// Send this request as it is: the ACK and then the BYE for a 2xx from a fork the call does
    /// not want, or the ACK again for that 2xx's retransmissions.
    case send(SIPRequest)
    /// Ask the INVITE's client transaction for its CANCEL (`SIPRequest.cancelRequest()`): nothing
    /// has answered yet, so every fork still ringing is stopped.
    case cancelInvite
    /// This dialog has ended and its resources can go.
    case terminated(DialogID)
}

/// The dialogs one INVITE sent may create when proxies fork it (§12.1.2, §13.2.2.4): one early
/// dialog per To tag seen in a 1xx, the first 2xx chooses the call, and every other fork is ended.
public struct InviteDialogSet: Hashable, Sendable {
    public let invite: SIPRequest
    /// Every dialog the INVITE created, in the order their first response arrived.
    public private(set) var dialogs: [Dialog]
    /// The dialog the first 2xx confirmed, once one has.
    public private(set) var chosen: DialogID?
    /// The INVITE has had its final answer (a 2xx or a failure); no fork can start ringing now.
    public private(set) var isAnswered: Bool
    /// The caller gave up before the answer; a 2xx that wins the race with the CANCEL is unwanted.
    public private(set) var isAbandoned: Bool
    private let inviteSequence: UInt32
    /// The ACK sent to each unwanted 2xx, sent again when that 2xx is retransmitted.
    private var acksForUnwantedForks: [String: SIPRequest]

    public init(invite: SIPRequest) throws(DialogError) {
        let headers = invite.headers
        let from = try parsed { () throws(SIPParseError) in try headers.from() }
        guard let tag = from.tag, !tag.isEmpty else { throw .missingTag("From") }
        _ = try parsed { () throws(SIPParseError) in try headers.callID() }
        self.inviteSequence = try parsed { () throws(SIPParseError) in try headers.cseq() }.sequence
        self.invite = invite
        self.dialogs = []
        self.chosen = nil
        self.isAnswered = false
        self.isAbandoned = false
        self.acksForUnwantedForks = [:]
    }

    public func dialog(_ id: DialogID) -> Dialog? { dialogs.first { $0.id == id } }

    /// The dialog a request from the peer belongs to, or `.notInDialog` (answer 481).
    public func dialog(for request: SIPRequest) throws(DialogError) -> Dialog {
        let id = try DialogID(receivedRequest: request)
        guard let dialog = dialog(id), dialog.state != .terminated else { throw .notInDialog }
        return dialog
    }

    /// Replaces a dialog after the caller has used it (built requests, received in it).
    public mutating func update(_ dialog: Dialog) {
        guard let index = dialogs.firstIndex(where: { $0.id == dialog.id }) else { return }
        dialogs[index] = dialog
    }

    /// A response to the INVITE, from whichever fork sent it.
    public mutating func receive(_ response: SIPResponse) throws(DialogError) -> [ForkAction] {
        let headers = response.headers
        let callID = try parsed { () throws(SIPParseError) in try headers.callID() }
        let from = try parsed { () throws(SIPParseError) in try headers.from() }
        guard callID == (try? invite.headers.callID()), from.tag == (try? invite.headers.from().tag) else { throw .notInDialog }
        switch response.statusCode {
        case ..<101:
            return []
        case ..<200:
            return try receiveProvisional(response)
        case 200..<300:
            return try receiveSuccess(response)
        default:
            return receiveFailure()
        }
    }

    /// Gives up on the call. Before any answer that is the INVITE's CANCEL, and the early dialogs
    /// end with the 487 it brings; after the 2xx it is a BYE in the chosen dialog.
    public mutating func abandon() throws(DialogError) -> [ForkAction] {
        guard let chosen, let index = dialogs.firstIndex(where: { $0.id == chosen }) else {
            guard !isAnswered, !isAbandoned else { return [] }
            isAbandoned = true
            return [.cancelInvite]
        }
        guard dialogs[index].state != .terminated else { return [] }
        let bye = try dialogs[index].makeRequest(.bye)
        dialogs[index].terminate()
        return [.send(bye), .terminated(chosen)]
    }

    /// The INVITE client transaction has ended: early dialogs no 2xx confirmed end with it
    /// (§13.2.2.4, after 64*T1).
    public mutating func inviteTransactionEnded() -> [ForkAction] {
        isAnswered = true
        return terminateEarlyDialogs()
    }

    private mutating func receiveProvisional(_ response: SIPResponse) throws(DialogError) -> [ForkAction] {
        // A 1xx without a To tag (a proxy's 180) creates nothing; after the answer none can start.
        guard !isAnswered, let tag = try parsed({ () throws(SIPParseError) in try response.headers.to() }).tag, !tag.isEmpty,
              !dialogs.contains(where: { $0.id.remoteTag == tag }) else { return [] }
        let dialog = try Dialog(asUACFor: invite, response: response)
        dialogs.append(dialog)
        return [.earlyDialogCreated(dialog.id)]
    }

    private mutating func receiveSuccess(_ response: SIPResponse) throws(DialogError) -> [ForkAction] {
        let id = try DialogID(receivedResponse: response)
        if id == chosen { return [.resendAck(id)] }
        if let ack = acksForUnwantedForks[id.remoteTag] { return [.send(ack)] }

        // Only the first 2xx to an INVITE still wanted becomes the call: not one that arrives
        // after the caller's CANCEL, nor after a failure already ended the INVITE.
        if chosen == nil, !isAnswered, !isAbandoned {
            var actions: [ForkAction] = []
            if let index = dialogs.firstIndex(where: { $0.id == id }) {
                var dialog = dialogs[index]
                _ = try dialog.receive(response, to: invite)
                dialogs[index] = dialog
            } else {
                dialogs.append(try Dialog(asUACFor: invite, response: response))
            }
            chosen = id
            isAnswered = true
            actions.append(.confirmed(id))
            // Other forks still in early state will never be the call. Their proxies cancel any
            // that are still ringing (§16.7 step 10); a 2xx one of them sends anyway is handled below.
            actions += terminateEarlyDialogs()
            return actions
        }

        // §13.2.2.4: any other 2xx is a dialog of its own; it must be acknowledged, and as the
        // call is answered elsewhere or no longer wanted, ended at once.
        var unwanted = try Dialog(asUACFor: invite, response: response)
        let ack = try unwanted.makeAck(forInviteSequence: inviteSequence)
        let bye = try unwanted.makeRequest(.bye)
        unwanted.terminate()
        acksForUnwantedForks[id.remoteTag] = ack
        if let index = dialogs.firstIndex(where: { $0.id == id }) { dialogs[index] = unwanted } else { dialogs.append(unwanted) }
        var actions: [ForkAction] = [.send(ack), .send(bye), .terminated(id)]
        if !isAnswered {
            // The 2xx that beat the CANCEL is the INVITE's final answer: no other fork will be the call.
            isAnswered = true
            actions += terminateEarlyDialogs()
        }
        return actions
    }

    private mutating func receiveFailure() -> [ForkAction] {
        // A final failure ends the INVITE, and with it every early dialog (§12.3); after a 2xx it
        // comes from a fork the proxy gave up on and changes nothing.
        guard chosen == nil else { return [] }
        isAnswered = true
        return terminateEarlyDialogs()
    }

    private mutating func terminateEarlyDialogs() -> [ForkAction] {
        var actions: [ForkAction] = []
        for index in dialogs.indices where dialogs[index].state == .early {
            dialogs[index].terminate()
            actions.append(.terminated(dialogs[index].id))
        }
        return actions
    }
}
