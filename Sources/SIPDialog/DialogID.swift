import SIP

/// Identifies a dialog (§12): its Call-ID and the two tags, from this side. The peer holds the same
/// dialog with the tags swapped, which is why a received request's To tag is our local tag.
public struct DialogID: Hashable, Sendable, CustomStringConvertible {
    public var callID: String
    public var localTag: String
    public var remoteTag: String

    public init(callID: String, localTag: String, remoteTag: String) {
        self.callID = callID
        self.localTag = localTag
        self.remoteTag = remoteTag
    }

    /// The dialog a received request claims (§12.2.2): To tag ours, From tag the peer's. A request
    /// without a To tag (`missingTag("To")`) claims no dialog at all: the caller handles it as a
    /// new request (§12.2.2 ends there, §8.2 starts) rather than answering it 400.
    public init(receivedRequest request: SIPRequest) throws(DialogError) {
        let headers = request.headers
        let to = try parsed { () throws(SIPParseError) in try headers.to() }
        let from = try parsed { () throws(SIPParseError) in try headers.from() }
        guard let local = to.tag, !local.isEmpty else { throw .missingTag("To") }
        guard let remote = from.tag, !remote.isEmpty else { throw .missingTag("From") }
        self.init(callID: try parsed { () throws(SIPParseError) in try headers.callID() }, localTag: local, remoteTag: remote)
    }

    /// The dialog a response to one of our requests belongs to: From tag ours, To tag the peer's.
    public init(receivedResponse response: SIPResponse) throws(DialogError) {
        let headers = response.headers
        let to = try parsed { () throws(SIPParseError) in try headers.to() }
        let from = try parsed { () throws(SIPParseError) in try headers.from() }
        guard let local = from.tag, !local.isEmpty else { throw .missingTag("From") }
        guard let remote = to.tag, !remote.isEmpty else { throw .missingTag("To") }
        self.init(callID: try parsed { () throws(SIPParseError) in try headers.callID() }, localTag: local, remoteTag: remote)
    }

    public var description: String { "\(callID) local=\(localTag) remote=\(remoteTag)" }
}
