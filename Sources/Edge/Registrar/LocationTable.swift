/// The bindings in memory, by address of record. Expired bindings are dropped as they are met.
public struct LocationTable: Sendable {
    private var entries: [String: [Binding]] = [:]

    public init(_ bindings: [Binding] = [], now: Int64) {
        for binding in bindings where binding.expiresAt > now {
            entries[binding.addressOfRecord, default: []].append(binding)
        }
    }

    public func bindings(for addressOfRecord: String, now: Int64) -> [Binding] {
        (entries[addressOfRecord] ?? []).filter { $0.expiresAt > now }
    }

    public mutating func replace(_ addressOfRecord: String, with bindings: [Binding]) {
        entries[addressOfRecord] = bindings.isEmpty ? nil : bindings
    }

    /// Every live binding, ordered by address of record then preference.
    public func all(now: Int64) -> [Binding] {
        entries.keys.sorted().flatMap { bindings(for: $0, now: now) }
    }

    /// The first live binding `matches` accepts, in no particular order: found without sorting or
    /// copying the table, which a call's INVITE would otherwise do once per registered phone.
    public func first(now: Int64, where matches: (Binding) -> Bool) -> Binding? {
        for bindings in entries.values {
            if let found = bindings.first(where: { $0.expiresAt > now && matches($0) }) { return found }
        }
        return nil
    }

    /// Marks the flows over any of `connections` gone (stale); returns how many bindings changed.
    public mutating func markFlowsGone(over connections: Set<UInt64>) -> Int {
        var changed = 0
        for (aor, bindings) in entries {
            var updated = bindings
            for index in updated.indices {
                guard let number = updated[index].flow.liveConnection, connections.contains(number) else { continue }
                updated[index].flow.markStale()
                changed += 1
            }
            entries[aor] = updated
        }
        return changed
    }

    /// Removes expired bindings; returns the addresses of record whose set changed.
    public mutating func purge(now: Int64) -> [String] {
        var changed: [String] = []
        for (aor, bindings) in entries where bindings.contains(where: { $0.expiresAt <= now }) {
            let live = bindings.filter { $0.expiresAt > now }
            entries[aor] = live.isEmpty ? nil : live
            changed.append(aor)
        }
        return changed.sorted()
    }
}
