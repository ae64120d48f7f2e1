import Testing

@testable import Runtime

@Suite struct PrometheusExpositionTests {
    static func counter(_ value: Double, labels: [MetricFamily.Label] = []) -> MetricFamily {
        MetricFamily("outpost_test_events_total", .counter, "Test events.", [MetricFamily.Sample(labels: labels, value: value)])
    }

    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    @Test func aCounterReadsWhatTheEdgesOwnCounterSaysAtEachScrape() {
        let exposition = PrometheusExposition()
        #expect(Self.text(exposition.render([Self.counter(3)])).contains("\noutpost_test_events_total 3\n"))
        let later = Self.text(exposition.render([Self.counter(5)]))
        #expect(later.contains("\noutpost_test_events_total 5\n"))
        #expect(later.contains("# TYPE outpost_test_events_total counter"))
        #expect(later.contains("# HELP outpost_test_events_total Test events."))
        // A source that starts again from less (none does today) is a reset, not a negative step.
        #expect(Self.text(exposition.render([Self.counter(2)])).contains("\noutpost_test_events_total 2\n"))
    }

    @Test func aGaugeIsSetAndASeriesGoneFromTheScrapeIsGoneFromTheOutput() {
        let exposition = PrometheusExposition()
        var up = MetricFamily("outpost_test_up", .gauge, "Up.")
        up.append(1, ("call_manager", "udp:192.0.2.10:5060"))
        up.append(0, ("call_manager", "udp:192.0.2.11:5060"))
        let both = Self.text(exposition.render([up]))
        #expect(both.contains(#"outpost_test_up{call_manager="udp:192.0.2.10:5060"} 1.0"#))
        #expect(both.contains(#"outpost_test_up{call_manager="udp:192.0.2.11:5060"} 0.0"#))
        up.samples.removeLast()
        up.samples[0].value = 0
        let one = Self.text(exposition.render([up]))
        #expect(one.contains(#"outpost_test_up{call_manager="udp:192.0.2.10:5060"} 0.0"#))
        #expect(!one.contains("192.0.2.11"))
        #expect(!Self.text(exposition.render([])).contains("outpost_test_up"))
    }

    @Test func fractionalCountersKeepTheirFraction() {
        let exposition = PrometheusExposition()
        let family = MetricFamily("outpost_test_seconds_total", .counter, "Seconds.", value: 0.25)
        #expect(Self.text(exposition.render([family])).contains("outpost_test_seconds_total 0.25"))
    }

    @Test(arguments: [
        ("relayedAccepted", "relayed_accepted"), ("closed_distrusted.unknown ca", "closed_distrusted_unknown_ca"),
        ("retransmissions_absorbed", "retransmissions_absorbed"), ("tlsRequired", "tls_required"), ("486", "486"),
    ])
    func counterKeysBecomeLabelValuesAnOperatorCanType(key: String, label: String) {
        #expect(MetricFamily.snakeCase(key) == label)
    }
}
