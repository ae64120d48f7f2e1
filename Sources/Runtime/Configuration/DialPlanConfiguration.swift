import Edge
import Yams

extension ConfigurationLoader {
    /// `dial_plan:`, an ordered list of rules:
    /// `{name, pattern, target: local|trunk|pstn:<group>|refuse, strip, prepend, status, reason, modes, survivable}`.
    static func readDialPlan(_ node: Node, reader: NodeReader) throws(ConfigurationError) -> DialPlan {
        guard case .sequence(let items) = node else { throw reader.error(node, "dial_plan", "must be a list of rules") }
        var rules: [DialPlanRule] = []
        for (index, item) in items.enumerated() {
            // One rule's mistake does not hide the next rule's.
            if let rule = reader.collecting({ () throws(ConfigurationError) in try readRule(item, index: index, earlier: rules, reader: reader) }) {
                rules.append(rule)
            }
        }
        return DialPlan(rules: rules)
    }

    private static func readRule(_ item: Node, index: Int, earlier rules: [DialPlanRule], reader: NodeReader) throws(ConfigurationError) -> DialPlanRule {
        let path = "dial_plan[\(index)]"
        let entries = try reader.mapping(
            item, path: path, allowed: ["name", "pattern", "target", "strip", "prepend", "status", "reason", "modes", "survivable"])
        guard let nameNode = entries["name"] else { throw reader.error(item, "\(path).name", "every rule needs a name") }
        let name = try reader.string(nameNode, path: "\(path).name")
        guard !rules.contains(where: { $0.name == name }) else { throw reader.error(nameNode, "\(path).name", "the rule name '\(name)' is used twice") }
        guard let patternNode = entries["pattern"] else { throw reader.error(item, "\(path).pattern", "every rule needs a pattern") }
        let pattern: DialPattern
        do { pattern = try DialPattern(try reader.string(patternNode, path: "\(path).pattern")) } catch let error as DialPlanError {
            throw reader.error(patternNode, "\(path).pattern", error.description)
        } catch {
            throw error as! ConfigurationError
        }
        guard let targetNode = entries["target"] else { throw reader.error(item, "\(path).target", "every rule needs a target") }
        let target = try readTarget(targetNode, path: "\(path).target", entries: entries, reader: reader, rulePath: path)
        let survivable = try entries["survivable"].map { node throws(ConfigurationError) in
            try readTarget(node, path: "\(path).survivable", entries: entries, reader: reader, rulePath: path)
        }
        var modes: Set<RegistrarMode> = [.normal, .survivable]
        if let modesNode = entries["modes"] {
            let names = try reader.strings(modesNode, path: "\(path).modes")
            modes = []
            for mode in names {
                guard let parsed = RegistrarMode(rawValue: mode), parsed != .failback else {
                    throw reader.error(modesNode, "\(path).modes", "'\(mode)' is not a mode (normal, survivable)")
                }
                modes.insert(parsed)
            }
        }
        let strip = try entries["strip"].map { node throws(ConfigurationError) in try reader.integer(node, path: "\(path).strip", range: 0...32) } ?? 0
        let prepend = try entries["prepend"].map { node throws(ConfigurationError) in try reader.string(node, path: "\(path).prepend") } ?? ""
        if let prependNode = entries["prepend"], !prepend.allSatisfy({ $0.isASCII && ($0.isNumber || "*#+".contains($0)) }) {
            throw reader.error(prependNode, "\(path).prepend", "'\(prepend)' may hold only digits, *, # and +")
        }
        return DialPlanRule(name: name, pattern: pattern, modes: modes, strip: strip, prepend: prepend, target: target, survivableTarget: survivable)
    }

    private static func readTarget(
        _ node: Node, path: String, entries: [String: Node], reader: NodeReader, rulePath: String
    ) throws(ConfigurationError) -> DialPlanTarget {
        let text = try reader.string(node, path: path)
        switch text {
        case "local": return .local
        case "trunk": return .trunk
        case "refuse":
            let status = try entries["status"].map { node throws(ConfigurationError) in try reader.integer(node, path: "\(rulePath).status", range: 400...699) } ?? 403
            let reason = try entries["reason"].map { node throws(ConfigurationError) in try reader.string(node, path: "\(rulePath).reason") }
                ?? "the dial plan refuses this number"
            return .refuse(status: status, reason: reason)
        default:
            if text.hasPrefix("pstn:"), text.count > 5 { return .pstn(group: String(text.dropFirst(5))) }
            throw reader.error(node, path, "'\(text)' is not a target (local, trunk, pstn:<group>, refuse)")
        }
    }
}
