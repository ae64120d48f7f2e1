import Testing
import XFRM

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

    /// The trunk's SAs as the kernel counted them, by SPI and direction.
    @Test func eachTrunkSACarriesItsKernelCounters() throws {
        let state = XFRMState(
            source: XFRMAddress("192.0.2.1"), destination: XFRMAddress("192.0.2.10"), spi: 0x1234, proto: .esp, mode: .transport,
            reqid: 1, current: XFRMCurrentLifetime(bytes: 9_000, packets: 42), statistics: XFRMStatistics(replayWindow: 1, replay: 2, integrityFailed: 3))
        let counters = IPsecAssociationCounters(state)
        #expect(counters == IPsecAssociationCounters(
            spi: "0x00001234", source: "192.0.2.1", destination: "192.0.2.10", bytes: 9_000, packets: 42, integrityFailures: 3, replayDrops: 3))
        let text = Self.text(PrometheusExposition().render(EdgeMetrics.associationFamilies([counters])))
        let labels = #"{spi="0x00001234",source="192.0.2.1",destination="192.0.2.10"}"#
        #expect(text.contains("outpost_ipsec_sa_packets_total\(labels) 42\n"))
        #expect(text.contains("outpost_ipsec_sa_bytes_total\(labels) 9000\n"))
        #expect(text.contains("outpost_ipsec_sa_integrity_failures_total\(labels) 3\n"))
        #expect(text.contains("outpost_ipsec_sas 1.0\n"))
    }
}
