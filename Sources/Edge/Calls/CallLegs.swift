import SDP
import SIP
import SIPDialog
import Synchronization

/// The leg toward the phone or call manager that placed the call: the INVITE it sent, where it
/// came from, and the server transaction's answer channel.
struct CallerLeg: Sendable {
    let invite: SIPRequest
    let origin: RequestOrigin
    /// Nil when the call manager placed the call over the trunk.
    let device: Device?
    let line: String
    var isCallManager: Bool { device == nil }
    var deviceName: String { device?.name ?? CalleeFork.callManagerName }
    /// Sends a response on the INVITE's server transaction (1xx, the final, and 2xx retransmissions).
    let reply: @Sendable (SIPResponse) -> Void
    /// Nil for a delayed offer (RFC 3261 §13.2.1): the edge then offers in its 2xx and the
    /// caller answers in the ACK.
    let offer: SessionDescription?
    let audioIndex: Int
    /// The offer the edge made in its 2xx to a delayed-offer INVITE, until the ACK answers it.
    var pendingOffer: (description: SessionDescription, policy: MediaPolicy)?
    let security: LegMediaSecurity
    let localTag: String
    var dialog: Dialog?
    /// What the edge last answered on this leg, for a re-INVITE that keeps keys and for the record.
    var stream: NegotiatedStream?
    var answer: SessionDescription?
    var sdpVersion: UInt64 = 1
    /// RFC 4028, as agreed in the edge's 2xx.
    var sessionTimer: SessionTimer?
    /// RFC 3262: the caller requires its provisional responses sent reliably.
    var requiresReliableProvisionals: Bool { invite.headers.tokens(.require).contains { $0.lowercased() == "100rel" } }
    var lastRSeq: UInt32 = 0
    /// Reliable provisionals not yet acknowledged by a PRACK, by RSeq.
    var unacknowledged: [UInt32: SIPResponse] = [:]
}

/// One branch of a call toward a binding of the dialled line, or toward the call manager; a line
/// with several phones gets a fork per phone, each with its own Call-ID, dialog, relay leg and keys.
struct CalleeFork: Sendable {
    enum Destination: Sendable {
        case phone(Binding)
        /// The call manager over the trunk, for this number.
        case callManager
    }

    /// How a call manager appears where a device name would.
    static let callManagerName = "call-manager"

    enum State: Sendable, Equatable {
        case inviting
        case early
        case answered
        /// Ended without being chosen: refused, cancelled, or lost the race.
        case finished(status: Int)
    }

    let destination: Destination
    let device: Device?
    let relayLeg: Int
    let security: LegMediaSecurity
    var state: State = .inviting
    var flow: BindingFlow?
    /// The INVITE as the stack sent it (with the edge's Via), set by the stack before it goes out
    /// and read by a CANCEL, which must carry the same Via; a box because the stack fills it
    /// outside the call's actor, before any response can arrive.
    let sent = SentRequest()
    var sentInvite: SIPRequest? { sent.request }
    var cancelSent = false
    var cancelReason: String?
    var offer: SessionDescription?
    var policy: MediaPolicy?
    var dialog: Dialog?
    var stream: NegotiatedStream?
    var finalResponse: SIPResponse?
    /// The CSeq of the INVITE that went out last: a `422` sends it again with a longer interval.
    var inviteSequence: UInt32 = 1
    /// The `Session-Expires` the edge's INVITE asks for; nil: the configured one.
    var askedInterval: Int?
    /// RFC 4028, as the callee's 2xx agreed it.
    var sessionTimer: SessionTimer?
    /// RFC 3262: the early dialog of the callee's reliable provisionals, in which the edge sends
    /// its PRACKs, and the last RSeq acknowledged.
    var earlyDialog: Dialog?
    var lastRSeq: UInt32 = 0

    var isCallManager: Bool {
        if case .callManager = destination { return true }
        return false
    }

    var deviceName: String {
        switch destination {
        case .phone(let binding): binding.device
        case .callManager: Self.callManagerName
        }
    }

    var isPending: Bool {
        switch state {
        case .inviting, .early: true
        case .answered, .finished: false
        }
    }
}

final class SentRequest: Sendable {
    private let value = Mutex<SIPRequest?>(nil)
    var request: SIPRequest? { value.withLock { $0 } }
    func record(_ request: SIPRequest) { value.withLock { $0 = request } }
}

/// A leg of an answered call, as the other side of the call sees it.
enum CallSide: Sendable, Equatable {
    case caller
    case callee
}

/// A dialog of one of the call's legs as the edge knows it: its Call-ID and the edge's own tag.
struct DialogKey: Sendable, Hashable {
    let callID: String
    let localTag: String
}
