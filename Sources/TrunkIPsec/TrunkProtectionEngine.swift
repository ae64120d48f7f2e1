internal import Glibc
import XFRM

/// A trunk-protection operation that failed, saying which step and why (with the kernel's errno
/// and extended-ack text when the kernel refused).
public struct TrunkProtectionError: Error, Sendable, CustomStringConvertible {
    public var step: String
    public var reason: String
    public var kernelError: XFRMError?

    public init(step: String, reason: String, kernelError: XFRMError? = nil) {
        self.step = step
        self.reason = reason
        self.kernelError = kernelError
    }

    init(step: String, _ error: XFRMError) {
        self.init(step: step, reason: error.description, kernelError: error)
    }

    public var description: String { "\(step): \(reason)" }
}

/// What `apply` changed.
public struct TrunkApplyReport: Sendable, CustomStringConvertible {
    public var installedPolicies: [XFRMPolicyRequest] = []
    public var replacedPolicies: [XFRMPolicyRequest] = []
    public var removedPolicies: [XFRMPolicy] = []
    public var installedStates: [XFRMStateRequest] = []
    public var replacedStates: [XFRMStateRequest] = []
    public var removedStates: [XFRMState] = []
    /// The read-back after the changes.
    public var assessment: TrunkAssessment?

    public var description: String {
        var lines: [String] = []
        for policy in installedPolicies { lines.append("installed policy \(policy)") }
        for policy in replacedPolicies { lines.append("replaced policy \(policy)") }
        for policy in removedPolicies { lines.append("removed stale policy \(policy)") }
        for state in installedStates { lines.append("installed SA \(state)") }
        for state in replacedStates { lines.append("replaced SA \(state)") }
        for state in removedStates { lines.append("removed SA \(state)") }
        if lines.isEmpty { lines.append("nothing to change") }
        if let assessment { lines.append("read back: \(assessment.summary)") }
        return lines.joined(separator: "\n")
    }
}

/// Carries out trunk protection on one kernel XFRM socket: applies the desired state, reads it
/// back, rekeys make-before-break and removes what the edge installed. Only objects tagged with
/// the configured reqid (and the edge's exact bypass policies) are ever changed or removed.
///
/// Not `Sendable`, like the socket: one task drives it.
public final class TrunkProtectionEngine {
    public let configuration: TrunkProtectionConfiguration
    public private(set) var keys: TrunkKeys?
    public private(set) var desired: TrunkDesiredState
    public let socket: NetlinkXFRMSocket

    /// `keys` is required with manual keying; with external keying it is ignored.
    public init(configuration: TrunkProtectionConfiguration, keys: TrunkKeys?, socket: NetlinkXFRMSocket) throws(TrunkProtectionError) {
        do throws(TrunkConfigurationError) {
            self.desired = try TrunkDesiredState.compute(configuration: configuration, keys: keys)
        } catch {
            throw TrunkProtectionError(step: "configuration", reason: error.description)
        }
        self.configuration = configuration
        self.keys = configuration.keying == .manual ? keys : nil
        self.socket = socket
    }

    public var ownership: TrunkOwnership { TrunkOwnership(configuration: configuration, desired: desired) }

    /// Adopts other keys as the desired state (nothing is installed or removed here).
    public func replaceKeys(_ newKeys: TrunkKeys) throws(TrunkProtectionError) {
        do throws(TrunkConfigurationError) {
            desired = try TrunkDesiredState.compute(configuration: configuration, keys: newKeys)
        } catch {
            throw TrunkProtectionError(step: "keys", reason: error.description)
        }
        keys = newKeys
    }

    /// Reads the SAD and SPD back and compares them with the desired state.
    public func assess() throws(TrunkProtectionError) -> (TrunkAssessment, XFRMSnapshot) {
        let snapshot: XFRMSnapshot
        do throws(XFRMError) {
            snapshot = try socket.snapshot()
        } catch {
            throw TrunkProtectionError(step: "read back", error)
        }
        return (TrunkAssessor.assess(configuration: configuration, desired: desired, snapshot: snapshot), snapshot)
    }

    /// Installs whatever of the desired state is missing — policies first, then SAs, so traffic
    /// is never sent in clear in between — replaces the edge's own objects that differ, and
    /// reads everything back. With `removeRetiring`, the edge's SAs the keys no longer name
    /// (an interrupted rekey) are removed too. Foreign objects in the way are never touched:
    /// that is an error.
    @discardableResult
    public func apply(removeRetiring: Bool = false) throws(TrunkProtectionError) -> TrunkApplyReport {
        guard configuration.keying == .manual else {
            throw TrunkProtectionError(step: "apply", reason: "keying is external: the key manager installs the SAs and policies; the edge only verifies them")
        }
        var report = TrunkApplyReport()
        let (before, snapshot) = try assess()
        let ownership = self.ownership

        for wanted in before.differingPolicies {
            let occupant = snapshot.policies.first {
                $0.direction == wanted.request.direction && $0.selector == wanted.request.selector && $0.mark == wanted.request.mark
            }
            guard let occupant, ownership.owns(occupant) else {
                throw TrunkProtectionError(
                    step: "apply",
                    reason: "policy index \(occupant?.index ?? 0) (\(occupant.map(String.init(describing:)) ?? "?")) is not the edge's but occupies \(wanted.request.direction) \(wanted.request.selector); remove it or change the configuration")
            }
            do throws(XFRMError) {
                try socket.updatePolicy(wanted.request)
            } catch {
                throw TrunkProtectionError(step: "replace policy \(wanted.request)", error)
            }
            report.replacedPolicies.append(wanted.request)
        }
        for wanted in before.missingPolicies {
            do throws(XFRMError) {
                try socket.addPolicy(wanted.request)
            } catch {
                throw TrunkProtectionError(step: "install policy \(wanted.request)", error)
            }
            report.installedPolicies.append(wanted.request)
        }
        for stale in before.stalePolicies {
            do throws(XFRMError) {
                try socket.deletePolicy(stale)
            } catch where error.errno == ENOENT {
                // ENOENT: already gone.
            } catch {
                throw TrunkProtectionError(step: "remove stale policy \(stale)", error)
            }
            report.removedPolicies.append(stale)
        }
        for wanted in before.differingStates {
            let occupant = snapshot.states.first { $0.id == wanted.request.id }
            guard let occupant, ownership.owns(occupant) else {
                throw TrunkProtectionError(
                    step: "apply",
                    reason: "SPI 0x\(TrunkKeyFile.hex(wanted.request.spi)) to \(wanted.request.destination) is taken by an SA that is not the edge's (reqid \(occupant?.reqid ?? 0)); choose other SPIs")
            }
            do throws(XFRMError) {
                try socket.deleteState(wanted.request.id)
                try socket.addState(wanted.request)
            } catch {
                throw TrunkProtectionError(step: "replace SA \(wanted.request)", error)
            }
            report.replacedStates.append(wanted.request)
        }
        // Inbound SAs first: the call manager may already be sending.
        let missing = before.missingStates.sorted { ($0.direction == .inbound ? 0 : 1) < ($1.direction == .inbound ? 0 : 1) }
        for wanted in missing {
            do throws(XFRMError) {
                try socket.addState(wanted.request)
            } catch {
                throw TrunkProtectionError(step: "install SA \(wanted.request)", error)
            }
            report.installedStates.append(wanted.request)
        }
        if removeRetiring {
            for state in before.retiringStates {
                guard let id = state.id else { continue }
                do throws(XFRMError) {
                    try socket.deleteState(id, mark: state.mark)
                } catch where error.errno == ESRCH {
                    // ESRCH: already gone.
                } catch {
                    throw TrunkProtectionError(step: "remove SA \(state)", error)
                }
                report.removedStates.append(state)
            }
        }
        report.assessment = try assess().0
        return report
    }

    /// What a rekey did, step by step.
    public struct RekeyReport: Sendable, CustomStringConvertible {
        public var steps: [String] = []
        public var assessment: TrunkAssessment?

        public var description: String { steps.joined(separator: "\n") }
    }

    /// Make-before-break rekey with new SPIs and keys: installs the new inbound SAs (both
    /// generations are now accepted), then the new outbound SAs (the kernel sends with the
    /// newest), reads everything back, removes the old outbound SAs, waits `grace` for the call
    /// manager to switch, then removes the old inbound SAs. On any failure before the old
    /// generation is touched, the new SAs are removed again and the old keys stay in force.
    ///
    /// `wait` carries out the grace period (the caller's clock: sleep, or a test's fake).
    ///
    /// `switched` runs once the new SAs read back and before any old SA is removed: the moment
    /// to make the new key file the configured one, so that a running edge that sees the old SAs
    /// go adopts the new keys instead of restoring the old SAs.
    public func rekey(
        to newKeys: TrunkKeys, grace: Duration, wait: (Duration) -> Void, progress: (String) -> Void = { _ in },
        switched: () -> Void = {}
    ) throws(TrunkProtectionError) -> RekeyReport {
        guard configuration.keying == .manual else {
            throw TrunkProtectionError(step: "rekey", reason: "keying is external: the key manager rekeys")
        }
        var report = RekeyReport()
        func note(_ line: String) {
            report.steps.append(line)
            progress(line)
        }
        let newDesired: TrunkDesiredState
        do throws(TrunkConfigurationError) {
            newDesired = try TrunkDesiredState.compute(configuration: configuration, keys: newKeys)
        } catch {
            throw TrunkProtectionError(step: "rekey", reason: error.description)
        }
        let (current, snapshot) = try assess()
        guard current.isProtected else {
            throw TrunkProtectionError(step: "rekey", reason: "the trunk is not protected now (\(current.summary)); run outpost ipsec apply first")
        }
        let installed = Set(snapshot.states.compactMap(\.id))
        for wanted in newDesired.states where installed.contains(wanted.request.id) {
            throw TrunkProtectionError(
                step: "rekey",
                reason: "SPI 0x\(TrunkKeyFile.hex(wanted.request.spi)) to \(wanted.request.destination) (line \(newKeys.entry(peer: wanted.peer.remote, direction: wanted.direction)?.line ?? 0)) is already installed; a rekey needs new SPIs")
        }
        let oldStates = current.ownedStates

        var added: [XFRMStateRequest] = []
        func rollBack() {
            for request in added.reversed() { try? socket.deleteState(request.id) }
        }
        for direction in [TrunkDirection.inbound, .outbound] {
            for wanted in newDesired.states where wanted.direction == direction {
                do throws(XFRMError) {
                    try socket.addState(wanted.request)
                } catch {
                    rollBack()
                    throw TrunkProtectionError(step: "rekey: install new \(direction.rawValue) SA \(wanted.request)", error)
                }
                added.append(wanted.request)
                note("installed new \(direction.rawValue) SA \(wanted.request.source) -> \(wanted.request.destination) spi 0x\(TrunkKeyFile.hex(wanted.request.spi))")
            }
        }
        let oldDesired = desired
        desired = newDesired
        let (afterInstall, _) = try assess()
        guard afterInstall.isProtected else {
            desired = oldDesired
            rollBack()
            throw TrunkProtectionError(step: "rekey: read back", reason: "the new SAs do not read back as configured (\(afterInstall.summary)); the old keys stay in force")
        }
        keys = newKeys
        note("new SAs read back; outbound traffic now uses the new SPIs")
        switched()

        let locals = Set(configuration.localAddresses)
        let oldOutbound = oldStates.filter { $0.source.map(locals.contains) ?? false }
        let oldInbound = oldStates.filter { !($0.source.map(locals.contains) ?? false) }
        for state in oldOutbound {
            guard let id = state.id else { continue }
            do throws(XFRMError) {
                try socket.deleteState(id, mark: state.mark)
            } catch where error.errno == ESRCH {
            } catch {
                throw TrunkProtectionError(step: "rekey: remove old outbound SA \(state)", error)
            }
            note("removed old outbound SA spi 0x\(TrunkKeyFile.hex(state.spi))")
        }
        if !oldInbound.isEmpty {
            note("keeping \(oldInbound.count) old inbound SA(s) for \(grace) while the call manager switches")
            wait(grace)
        }
        for state in oldInbound {
            guard let id = state.id else { continue }
            do throws(XFRMError) {
                try socket.deleteState(id, mark: state.mark)
            } catch where error.errno == ESRCH {
            } catch {
                throw TrunkProtectionError(step: "rekey: remove old inbound SA \(state)", error)
            }
            note("removed old inbound SA spi 0x\(TrunkKeyFile.hex(state.spi))")
        }
        let (final, _) = try assess()
        report.assessment = final
        note("read back: \(final.summary)")
        return report
    }

    /// What `removeOwned` removed.
    public struct RemovalReport: Sendable, CustomStringConvertible {
        public var states: [XFRMState] = []
        public var policies: [XFRMPolicy] = []

        public var description: String {
            "removed \(states.count) SA(s) and \(policies.count) polic\(policies.count == 1 ? "y" : "ies") the edge had installed"
        }
    }

    /// Removes every SA and policy the edge installed (its reqid, its bypasses) and nothing
    /// else: SAs first, so nothing is sent in clear while the policies are still there.
    @discardableResult
    public func removeOwned() throws(TrunkProtectionError) -> RemovalReport {
        var report = RemovalReport()
        guard configuration.keying == .manual else { return report }
        let snapshot: XFRMSnapshot
        do throws(XFRMError) {
            snapshot = try socket.snapshot()
        } catch {
            throw TrunkProtectionError(step: "read back", error)
        }
        let ownership = self.ownership
        for state in snapshot.states where ownership.owns(state) {
            guard let id = state.id else { continue }
            do throws(XFRMError) {
                try socket.deleteState(id, mark: state.mark)
            } catch where error.errno == ESRCH {
            } catch {
                throw TrunkProtectionError(step: "remove SA \(state)", error)
            }
            report.states.append(state)
        }
        for policy in snapshot.policies where ownership.owns(policy) {
            do throws(XFRMError) {
                try socket.deletePolicy(policy)
            } catch where error.errno == ENOENT {
            } catch {
                throw TrunkProtectionError(step: "remove policy \(policy)", error)
            }
            report.policies.append(policy)
        }
        return report
    }
}
