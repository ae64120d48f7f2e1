import Edge
import SIP
import SIPTransport
import TrunkIPsec

extension OutpostConfiguration {
    /// What the configuration means, one line per fact, for `outpost check-config`: listeners,
    /// the trunk and how fast it fails over, its IPsec, the registrar, the inventory (never a
    /// password), TFTP, where state lives.
    public var summary: [String] {
        var lines = ["configuration is valid"]
        for listener in sip.listeners {
            lines.append("  sip \(listener.transport.rawValue.lowercased()) \(listener.address):\(listener.port)")
        }
        if let trunk {
            let managers = trunk.callManagers.map { "\($0.transport.rawValue.lowercased()):\($0.address):\($0.port)" }
            let bound = TrunkHealth.Settings(misses: trunk.failoverMisses).failoverBound(interval: .seconds(trunk.optionsInterval))
            lines.append("  trunk to \(managers.joined(separator: ", ")) (in order of preference), domain \(trunk.domain ?? trunk.callManagers[0].address)")
            lines.append(
                "  trunk keep-alive every \(trunk.optionsInterval) s; survivable after \(trunk.failoverMisses) missed (at most \(bound.readable)); "
                    + "hand-back after \(trunk.failbackSuccesses) answered and \(trunk.holdDown) s; bindings refreshed upstream every \(trunk.upstreamRefresh) s")
        } else {
            lines.append("  no trunk: the edge is always the registrar")
        }
        if let protection = trunkIPsec {
            let managers = protection.callManagers.map { "\($0)" }.joined(separator: ", ")
            lines.append("  trunk IPsec \(protection.keying.rawValue) keying, \(protection.suite) to \(managers), keys \(protection.keyFile)")
        }
        lines.append(
            "  registrar realm \(registrar.realm), expires \(registrar.minimumExpires)–\(registrar.maximumExpires) s (default \(registrar.defaultExpires)), "
                + "digest \(registrar.digestAlgorithms.map(\.rawValue).joined(separator: ", "))")
        lines.append("  inventory: \(devices.count) device\(devices.count == 1 ? "" : "s")")
        for device in devices {
            let numbers = device.lines.map(\.number).joined(separator: ", ")
            let credentials = device.digest.map { ", digest user \($0.username)" } ?? ""
            lines.append("    \(device.name) \(device.security.rawValue), lines \(numbers)\(credentials)")
        }
        lines.append(admin.enabled ? "  admin \(admin.tls ? "https" : "http")://\(admin.address.contains(":") ? "[\(admin.address)]" : admin.address):\(admin.port)/metrics" : "  admin off")
        if tftp.enabled {
            let upstream = tftp.upstream.map { ", call manager's files from \($0.address):\($0.port)" } ?? ""
            lines.append("  tftp \(tftp.address):\(tftp.port)\(upstream)")
        } else {
            lines.append("  tftp off")
        }
        lines.append(
            "  media relay \(media.address) ports \(media.portMin)-\(media.portMax) on \(media.threads) thread\(media.threads == 1 ? "" : "s"), "
                + "RTP timeout \(media.rtpTimeoutSeconds) s (held \(media.holdTimeoutSeconds) s), latching window \(media.latchingWindowSeconds) s")
        if dialPlan.rules.isEmpty {
            lines.append("  dial plan: defaults only (branch lines local; the rest to the call manager, refused while it is unreachable)")
        } else {
            lines.append("  dial plan: \(dialPlan.rules.count) rule\(dialPlan.rules.count == 1 ? "" : "s")")
            for rule in dialPlan.rules {
                let translation = rule.strip > 0 || !rule.prepend.isEmpty ? " strip \(rule.strip) prepend '\(rule.prepend)'" : ""
                let survivable = rule.survivableTarget.map { ", survivable \(Self.describe($0))" } ?? ""
                let modes = rule.modes.count == 2 ? "" : " (\(rule.modes.map(\.rawValue).sorted().joined(separator: ", ")) only)"
                lines.append("    \(rule.name): \(rule.pattern)\(translation) -> \(Self.describe(rule.target))\(survivable)\(modes)")
            }
            for (rule, shadow) in dialPlan.unreachableRules() {
                lines.append("  warning: dial-plan rule \(rule) can never match: rule \(shadow) before it matches every number it does")
            }
        }
        lines.append("  state directory \(stateDirectory)")
        lines.append("  log level \(logLevel)")
        return lines
    }

    private static func describe(_ target: DialPlanTarget) -> String {
        switch target {
        case .local: "local line"
        case .trunk: "trunk"
        case .pstn(let group): "PSTN group \(group)"
        case .refuse(let status, let reason): "refuse \(status) (\(reason))"
        }
    }
}
