import Foundation

extension BenchmarkFormat {
    /// The latency below which `fraction` of `sorted` (nanoseconds, ascending) falls.
    static func percentile(_ fraction: Double, ofSorted sorted: [UInt64]) -> Duration {
        guard !sorted.isEmpty else { return .zero }
        let index = min(sorted.count - 1, max(0, Int((Double(sorted.count) * fraction).rounded(.up)) - 1))
        return .nanoseconds(Int64(sorted[index]))
    }

    /// One line per contender with the median of its runs, the first (the edge) as a multiple of
    /// each other (`ratio` names the pair); returns the medians for the goal lines after.
    static func medianLines<Result: MeasuredRate>(
        _ contenders: [(label: String, results: [Result], error: String?)], ratio: String
    ) -> (lines: [String], medians: [Result?]) {
        var lines: [String] = []
        let medians = contenders.map { contender in
            contender.results.sorted { $0.perSecond < $1.perSecond }.dropFirst((contender.results.count - 1) / 2).first
        }
        let width = contenders.map(\.label.count).max() ?? 0
        for (index, contender) in contenders.enumerated() {
            let label = padded(contender.label, width)
            guard let median = medians[index] else {
                lines.append("    \(label)  not measured: \(contender.error ?? "no run")")
                continue
            }
            var line = "    \(label)  \(median)"
            if index > 0, let edge = medians[0], median.perSecond > 0 {
                line += "; \(ratio) \(String(format: "%.2f", edge.perSecond / median.perSecond))×"
            }
            if contender.results.contains(where: { $0.failures > 0 }) { line += "  [FAILURES: this figure is not valid]" }
            if let error = contender.error { line += "  [a later run failed: \(error)]" }
            lines.append(line)
        }
        return (lines, medians)
    }
}

/// A run of a load generator as the reports compare them.
protocol MeasuredRate: CustomStringConvertible {
    var perSecond: Double { get }
    var failures: Int { get }
}

extension RegisterLoadResult: MeasuredRate {}
extension CallLoadResult: MeasuredRate {}
