import Prometheus
import Synchronization

/// Turns the families read at a scrape into Prometheus's text format through swift-prometheus.
/// Its counters only count up, so each counter series is moved by the difference to what the
/// edge's own counter says now; series that are gone from a scrape (a call manager removed, a
/// round trip not measured) are unregistered rather than left at a stale value.
final class PrometheusExposition: Sendable {
    private enum Series {
        case counter(Counter, last: Double)
        case gauge(Gauge)
    }

    private struct State {
        var series: [String: Series] = [:]
    }

    private let registry = PrometheusCollectorRegistry()
    private let state = Mutex(State())

    func render(_ families: [MetricFamily]) -> [UInt8] {
        state.withLock { state in
            var seen = Set<String>()
            for family in families {
                let descriptor = MetricNameDescriptor(metricName: family.name, unitName: "", helpText: family.help)
                for sample in family.samples {
                    let labels = sample.labels.map { ($0.name, $0.value) }
                    let key = family.name + "{" + labels.map { "\($0.0)=\($0.1)" }.joined(separator: ",") + "}"
                    seen.insert(key)
                    switch (family.kind, state.series[key]) {
                    case (.counter, .counter(let counter, let last)?):
                        if sample.value >= last {
                            Self.increment(counter, by: sample.value - last)
                        } else {
                            counter.reset()
                            Self.increment(counter, by: sample.value)
                        }
                        state.series[key] = .counter(counter, last: sample.value)
                    case (.counter, _):
                        let counter = registry.makeCounter(descriptor: descriptor, labels: labels)
                        Self.increment(counter, by: sample.value)
                        state.series[key] = .counter(counter, last: sample.value)
                    case (.gauge, .gauge(let gauge)?):
                        gauge.set(sample.value)
                    case (.gauge, _):
                        let gauge = registry.makeGauge(descriptor: descriptor, labels: labels)
                        gauge.set(sample.value)
                        state.series[key] = .gauge(gauge)
                    }
                }
            }
            for (key, series) in state.series where !seen.contains(key) {
                switch series {
                case .counter(let counter, _): registry.unregisterCounter(counter)
                case .gauge(let gauge): registry.unregisterGauge(gauge)
                }
                state.series[key] = nil
            }
            return registry.emitToBuffer()
        }
    }

    /// Whole counts go in as integers, so a count reads `3`, not `3.0`.
    private static func increment(_ counter: Counter, by amount: Double) {
        if amount == amount.rounded(), abs(amount) < 9.0e15 {
            counter.increment(by: Int64(amount))
        } else {
            counter.increment(by: amount)
        }
    }
}
