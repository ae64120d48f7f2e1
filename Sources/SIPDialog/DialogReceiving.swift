import SIP

/// The verdict on a request received for a dialog.
public enum InDialogRequestOutcome: Hashable, Sendable {
    /// In this dialog and in order: the dialog is updated, hand the request to the TU.
    case accepted(DialogChange)
    /// Answer with `error.response(to: request)`: 481 for another or an ended dialog, 500 out of
    /// order, 400 for a header the dialog cannot read.
    case rejected(DialogError)
}

extension Dialog {
    /// Checks and records a request from the peer (§12.2.2). The dialog is left as it was when
    /// the request is rejected.
    public mutating func receive(_ request: SIPRequest) -> InDialogRequestOutcome {
        let headers = request.headers
        do throws(DialogError) {
            guard try DialogID(receivedRequest: request) == id, state != .terminated else { throw .notInDialog }
            let sequence = try parsed { () throws(SIPParseError) in try headers.cseq() }.sequence
            // An ACK carries its INVITE's CSeq, which a later request may already have overtaken;
            // it is never answered, so it neither fails nor moves the order check.
            if request.method != .ack, let last = remoteSequence, sequence < last {
                throw .cseqOutOfOrder(received: sequence, last: last)
            }
            let target = Dialog.isTargetRefresh(request.method) ? try Dialog.target(in: headers, secure: isSecure) : nil

            if request.method != .ack { remoteSequence = sequence }
            if request.method == .bye {
                state = .terminated
                return .accepted(.terminated)
            }
            if let target, target != remoteTarget {
                remoteTarget = target
                return .accepted(.remoteTargetRefreshed)
            }
            return .accepted(.none)
        } catch {
            return .rejected(error)
        }
    }

    /// Records a final or provisional response to `request`, a request this dialog sent or the
    /// INVITE that created it (§12.2.1.2, §13.2.2.4). Throws without changing the dialog when the
    /// response names another dialog or carries a Contact or Record-Route it cannot use.
    public mutating func receive(_ response: SIPResponse, to request: SIPRequest) throws(DialogError) -> DialogChange {
        guard state != .terminated else { return .none }
        guard try DialogID(receivedResponse: response) == id else { throw .notInDialog }
        let headers = response.headers
        switch response.statusCode {
        case ..<200:
            return .none
        case 481, 408:
            // §12.2.1.2: the peer no longer knows the dialog, or nobody answered: it is over.
            state = .terminated
            return .terminated
        case 200..<300 where state == .early && request.method == .invite:
            // §13.2.2.4: the 2xx fixes the route set for good; 1xx ones may have differed.
            guard let target = try Dialog.target(in: headers, secure: isSecure) else {
                throw .malformed(SIPParseError(element: "Contact", reason: "missing in a 2xx that confirms a dialog"))
            }
            let routes = try Dialog.routeSet(in: headers)
            if role == .uac { routeSet = routes.reversed() }
            remoteTarget = target
            state = .confirmed
            return .confirmed
        case 200..<300 where Dialog.isTargetRefresh(request.method):
            guard let target = try Dialog.target(in: headers, secure: isSecure), target != remoteTarget else { return .none }
            remoteTarget = target
            return .remoteTargetRefreshed
        case 300... where state == .early && request.method == .invite:
            state = .terminated
            return .terminated
        case 401 where request.method == .bye, 407 where request.method == .bye:
            // A challenged BYE is sent again with credentials; the dialog is not over yet.
            return .none
        case 200... where request.method == .bye:
            // §15.1.1: whatever the answer, the BYE ended the dialog.
            state = .terminated
            return .terminated
        default:
            return .none
        }
    }
}
