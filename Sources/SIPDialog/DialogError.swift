import SIP

/// Why a message could not create, join or be sent in a dialog. Each case carries what a log line
/// or a response needs to say exactly what was wrong, and maps to the status a UAS answers with.
public enum DialogError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A header the dialog relies on does not parse, or does not have the shape §12 needs
    /// (one sip/sips Contact, sip/sips routes); `element` names the header.
    case malformed(SIPParseError)
    /// The From or To tag that identifies the dialog is absent (the header's name). RFC 2543 peers
    /// without tags are not supported: without both tags two forks cannot be told apart.
    case missingTag(String)
    /// The response cannot create a dialog: `100`, a final failure, or a 1xx/2xx to a method that
    /// does not create dialogs is not a dialog-creating response (§12.1).
    case notDialogCreating(statusCode: Int)
    /// The message's Call-ID and tags name another dialog, or this one has ended; a UAS answers
    /// `481` (§12.2.2).
    case notInDialog
    /// The request's CSeq is lower than the last one the peer used (§12.2.2); a UAS answers `500`.
    case cseqOutOfOrder(received: UInt32, last: UInt32)
    /// The dialog has ended; nothing more can be sent in it.
    case dialogTerminated
    /// ACK for a 2xx needs a confirmed dialog (§13.2.2.4).
    case notConfirmed
    /// ACK reuses the INVITE's CSeq and CANCEL belongs to the INVITE's transaction, so neither may
    /// take a new sequence number: use `makeAck(forInviteSequence:)` or the transaction's CANCEL.
    case needsDedicatedBuilder(SIPMethod)
    /// The local CSeq would reach 2^31 (§8.1.1.5).
    case sequenceExhausted

    /// What a UAS answers a request that failed this way.
    public var statusCode: Int {
        switch self {
        case .malformed, .missingTag: 400
        case .notInDialog, .dialogTerminated: 481
        case .cseqOutOfOrder, .notDialogCreating, .notConfirmed, .needsDedicatedBuilder, .sequenceExhausted: 500
        }
    }

    /// A reason phrase safe for a status line, naming what was wrong.
    public var reasonPhrase: String {
        switch self {
        case .malformed(let error): error.reasonPhrase
        case .missingTag(let header): "Bad \(header): missing tag"
        case .notInDialog, .dialogTerminated: "Call/Transaction Does Not Exist"
        case .cseqOutOfOrder(let received, let last): "CSeq out of order (\(received) after \(last))"
        case .notDialogCreating(let code): "\(code) does not create a dialog"
        case .notConfirmed: "Dialog not confirmed"
        case .needsDedicatedBuilder(let method): "\(method) cannot be built as a new in-dialog request"
        case .sequenceExhausted: "CSeq exhausted"
        }
    }

    /// The response a UAS sends for a request rejected this way (§8.2.6).
    public func response(to request: SIPRequest) -> SIPResponse {
        SIPResponse(respondingTo: request, statusCode: statusCode, reasonPhrase: reasonPhrase)
    }

    public var description: String { reasonPhrase }
}

/// Runs a typed-header read and reports its parse error as a dialog error.
@inline(__always)
func parsed<Value>(_ body: () throws(SIPParseError) -> Value) throws(DialogError) -> Value {
    do {
        return try body()
    } catch {
        throw .malformed(error)
    }
}
