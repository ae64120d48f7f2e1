/// Whether the trunk to the call manager may carry signalling, as the domain sees it.
///
/// Declared by the Edge layer (it never sees XFRM): the runtime adapts the TrunkIPsec target's
/// `TrunkProtectionDriver` (its verdict and per-call-manager assessment) to this protocol. Fail
/// closed: until the protection is verified the status is `.unprotected`, and the trunk transport
/// must not send signalling to a call manager whose state is not `.protected`.
public protocol TrunkProtection: Sendable {
    /// The current status.
    func currentStatus() async -> TrunkProtectionStatus
    /// Every change of status, starting with the current one.
    func statusUpdates() -> AsyncStream<TrunkProtectionStatus>
}

/// The trunk's protection, overall and per call-manager address.
public struct TrunkProtectionStatus: Sendable, Hashable {
    public enum State: Sendable, Hashable {
        case protected
        /// Not (or no longer) protected; the reason names what is missing.
        case unprotected(reason: String)
    }

    /// `.protected` only when every call manager is.
    public var state: State
    /// Keyed by the call manager's address as text (`192.0.2.10`, `2001:db8::10`).
    public var callManagers: [String: State]

    public init(state: State, callManagers: [String: State]) {
        self.state = state
        self.callManagers = callManagers
    }

    /// Before anything is verified.
    public static let starting = TrunkProtectionStatus(state: .unprotected(reason: "not yet verified"), callManagers: [:])

    public var mayCarrySignalling: Bool { state == .protected }

    /// Whether signalling to this call manager may be sent now.
    public func mayCarrySignalling(to address: String) -> Bool {
        callManagers[address] == .protected
    }
}
