import XFRM

/// The text of `outpost show ipsec`: the trunk's verdict, every policy and SA in the kernel
/// (the edge's marked `[edge]`), and each SA's counters. Pure; never shows key material.
public enum IPsecReport {
    public static func render(
        configuration: TrunkProtectionConfiguration, assessment: TrunkAssessment, snapshot: XFRMSnapshot, verdict: TrunkVerdict? = nil
    ) -> String {
        var lines: [String] = []
        let ownership = TrunkOwnershipView(configuration: configuration, assessment: assessment)
        let coverage = configuration.coverage == .all
            ? "all traffic"
            : "SIP \(configuration.sipProtocols.map(\.rawValue).joined(separator: "/")) ports \(configuration.sipPorts.map(String.init).joined(separator: ","))"
        lines.append("Trunk IPsec: keying \(configuration.keying.rawValue), ESP transport, suite \(configuration.suite.rawValue), reqid \(configuration.reqid), covering \(coverage)")
        for peer in configuration.pairs {
            let problems = assessment.findings(for: peer.remote)
            lines.append("  call manager \(peer.remote) (edge \(peer.local)): \(problems.isEmpty ? "protected" : "NOT PROTECTED")")
            for problem in problems { lines.append("    - \(problem.message)") }
        }
        if let verdict { lines.append("Trunk: \(verdict)") } else { lines.append("Trunk: \(assessment.isProtected ? "protected" : "NOT PROTECTED")") }

        lines.append("")
        lines.append("Policies (\(snapshot.policies.count)):")
        for policy in snapshot.policies.sorted(by: { ($0.direction.number, $0.priority, $0.index) < ($1.direction.number, $1.priority, $1.index) }) {
            let tag = ownership.owns(policy) ? "[edge]" : "[other]"
            var line = "  \(tag) \(policy.direction) \(policy.selector) priority \(policy.priority) \(policy.action) index \(policy.index)"
            if let mark = policy.mark { line += " \(mark)" }
            lines.append(line)
            for template in policy.templates { lines.append("      \(template)") }
        }

        lines.append("")
        lines.append("SAs (\(snapshot.states.count)):")
        let retiring = Set(assessment.retiringStates.compactMap(\.id))
        for state in snapshot.states.sorted(by: { ($0.destination?.description ?? "", $0.spi) < ($1.destination?.description ?? "", $1.spi) }) {
            var tag = ownership.owns(state) ? "[edge]" : "[other]"
            if let id = state.id, retiring.contains(id) { tag = "[edge, retiring]" }
            if state.isLarval { tag = "[larval]" }
            lines.append("  \(tag) \(state.source.map(String.init(describing:)) ?? "?") -> \(state.destination.map(String.init(describing:)) ?? "?") \(state.proto) spi 0x\(TrunkKeyFile.hex(state.spi)) \(state.mode) reqid \(state.reqid)")
            lines.append("      \(state.algorithms); replay window \(state.replayWindow)")
            let counters = state.statistics
            lines.append("      \(state.current.bytes) bytes, \(state.current.packets) packets; errors: \(counters.integrityFailed) integrity, \(counters.replay) replay, \(counters.replayWindow) outside window")
            lines.append("      added \(timestamp(state.current.addTime)), last used \(state.current.useTime == 0 ? "never" : timestamp(state.current.useTime))")
            if !state.lifetime.isUnlimited { lines.append("      lifetime \(state.lifetime)") }
        }
        return lines.joined(separator: "\n")
    }

    /// UTC `YYYY-MM-DD hh:mm:ss` from seconds since the epoch (no Foundation).
    static func timestamp(_ seconds: UInt64) -> String {
        guard seconds > 0 else { return "-" }
        let days = Int(seconds / 86_400)
        let rest = Int(seconds % 86_400)
        // Howard Hinnant's civil-from-days.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : String(value) }
        return "\(year)-\(two(month))-\(two(day)) \(two(rest / 3600)):\(two(rest / 60 % 60)):\(two(rest % 60)) UTC"
    }
}

/// Ownership as the report shows it (bypasses taken from the assessment's owned policies).
private struct TrunkOwnershipView {
    let configuration: TrunkProtectionConfiguration
    let ownedPolicies: Set<XFRMPolicy>

    init(configuration: TrunkProtectionConfiguration, assessment: TrunkAssessment) {
        self.configuration = configuration
        self.ownedPolicies = Set(assessment.ownedPolicies)
    }

    func owns(_ policy: XFRMPolicy) -> Bool { ownedPolicies.contains(policy) }

    func owns(_ state: XFRMState) -> Bool {
        configuration.keying == .manual && state.reqid == configuration.reqid && state.proto == .esp && !state.isLarval
    }
}
