import Edge
import Media
import SIPTransport
import Synchronization
import TFTP

/// What `/metrics` reports: read at each scrape from the counters the subsystems keep anyway
/// (the same ones `outpost show` prints), so that metrics cost nothing between scrapes.
struct EdgeMetrics: Sendable {
    let registrar: Registrar
    /// Both nil without a trunk.
    let survivability: SurvivabilityController?
    let monitor: TrunkMonitorService?
    /// Nil without trunk_ipsec.
    let trunkProtection: TrunkProtectionService?
    let transport: SIPTransportStatistics
    let connections: SIPConnectionTable
    let stack: SIPStack
    let tls: TLSHandshakeStatistics
    let liveTLS: LiveTLSConnections
    let tftp: TFTPStatistics?
    let calls: CallRouter
    let relay: RTPRelay

    func collect() async -> [MetricFamily] {
        var families = registration()
        families += trunkFamilies()
        if let trunkProtection { families += await ipsec(trunkProtection) + Self.associationFamilies(trunkProtection.securityAssociations) }
        families += sip()
        if let tftp { families += tftpFamilies(tftp) }
        families += callFamilies()
        families += media()
        return families
    }

    private func registration() -> [MetricFamily] {
        var mode = MetricFamily("outpost_registrar_mode", .gauge, "1 for the registrar's current mode: normal (the call manager registers the phones) or survivable (the edge does).")
        for candidate in [RegistrarMode.normal, .survivable] { mode.append(candidate == registrar.mode ? 1 : 0, ("mode", candidate.rawValue)) }
        let bindings = registrar.bindings()
        var byState: [String: [String: Int]] = [:]
        for binding in bindings {
            let state = binding.flow.stale ? "stale_flow" : binding.acceptedUpstream ? "registered_upstream" : "registered"
            byState[binding.flow.transport.rawValue.lowercased(), default: [:]][state, default: 0] += 1
        }
        var registrations = MetricFamily(
            "outpost_registrations", .gauge,
            "Live bindings by transport and state: registered (the edge holds it), registered_upstream (the call manager holds it too), stale_flow (restored from an earlier process, waiting for the phone's connection).")
        for transport in ["udp", "tcp", "tls"] {
            for state in ["registered", "registered_upstream", "stale_flow"] {
                registrations.append(Double(byState[transport]?[state] ?? 0), ("transport", transport), ("state", state))
            }
        }
        return [
            mode, registrations,
            MetricFamily("outpost_registered_devices", .gauge, "Inventory devices with at least one live binding.", value: Set(bindings.map(\.device)).count),
            MetricFamily("outpost_inventory_devices", .gauge, "Devices in the inventory.", value: registrar.inventory.devices.count),
            MetricFamily(
                "outpost_registrar_events_total", .counter, "What the registrar did, by outcome (registered, challenged, wrong_credentials, lockouts, …).",
                label: "event", values: registrar.statistics.snapshot()),
        ]
    }

    private func trunkFamilies() -> [MetricFamily] {
        guard let survivability, let monitor else { return [] }
        let snapshot = survivability.snapshot()
        let roundTrips = monitor.lastRoundTrips.withLock { $0 }
        var up = MetricFamily("outpost_trunk_call_manager_up", .gauge, "1 while the call manager answers the edge's keep-alive OPTIONS.")
        var roundTrip = MetricFamily("outpost_trunk_call_manager_round_trip_seconds", .gauge, "The last keep-alive's round trip to the call manager.")
        for manager in monitor.callManagers {
            let name = manager.remote
            let answered = roundTrips[name]
            up.append(answered == nil ? 0 : 1, ("call_manager", name))
            if let answered { roundTrip.append(answered / .seconds(1), ("call_manager", name)) }
        }
        return [
            up, roundTrip,
            MetricFamily("outpost_trunk_failovers_total", .counter, "Transitions to survivable mode (the WAN or the call manager failed).", value: snapshot.failovers),
            MetricFamily("outpost_trunk_failbacks_total", .counter, "Transitions back to normal mode (phones handed back to the call manager).", value: snapshot.failbacks),
            MetricFamily("outpost_trunk_state_seconds", .gauge, "Seconds the trunk has been in its current state.", value: snapshot.secondsInState),
        ]
    }

    private func ipsec(_ protection: TrunkProtectionService) async -> [MetricFamily] {
        let status = await protection.currentStatus()
        var family = MetricFamily(
            "outpost_ipsec_trunk_protected", .gauge, "1 while the IPsec policies and SAs to the call manager are installed and verified.")
        family.append(status.state == .protected ? 1 : 0, ("call_manager", "all"))
        for (address, state) in status.callManagers.sorted(by: { $0.key < $1.key }) {
            family.append(state == .protected ? 1 : 0, ("call_manager", address))
        }
        return [family]
    }

    /// Per SA, labelled by SPI and direction: a rekey starts new series, which Prometheus reads as the counter reset it is.
    static func associationFamilies(_ associations: [IPsecAssociationCounters]) -> [MetricFamily] {
        let counters: [(name: String, help: String, value: KeyPath<IPsecAssociationCounters, UInt64>)] = [
            ("outpost_ipsec_sa_bytes_total", "Bytes the kernel carried on the trunk's ESP SA.", \.bytes),
            ("outpost_ipsec_sa_packets_total", "Packets the kernel carried on the trunk's ESP SA.", \.packets),
            ("outpost_ipsec_sa_integrity_failures_total", "ESP packets whose integrity check failed (the usual sign of wrong keys).", \.integrityFailures),
            ("outpost_ipsec_sa_replay_drops_total", "ESP packets dropped as replays or outside the replay window.", \.replayDrops),
        ]
        let families = counters.map { counter in
            MetricFamily(
                counter.name, .counter, counter.help,
                associations.map { sa in
                    let labels = [("spi", sa.spi), ("source", sa.source), ("destination", sa.destination)]
                    return MetricFamily.Sample(labels: labels.map { MetricFamily.Label(name: $0.0, value: $0.1) }, value: Double(sa[keyPath: counter.value]))
                })
        }
        return [MetricFamily("outpost_ipsec_sas", .gauge, "The trunk's ESP SAs installed and read back.", value: associations.count)] + families
    }

    private func sip() -> [MetricFamily] {
        var transportCounters: [String: Int] = [:]
        for (counter, value) in transport.snapshot { transportCounters[counter.rawValue] = value }
        var transactionEvents = stack.statistics.snapshot()
        var responses = MetricFamily("outpost_sip_responses_total", .counter, "Responses the edge's server transactions sent, by class.")
        for (responseClass, counter) in TransactionStatistics.Counter.responseClasses {
            responses.append(Double(stack.statistics[counter]), ("class", responseClass))
            transactionEvents[counter.rawValue] = nil
        }
        var open = MetricFamily("outpost_sip_connections", .gauge, "Open SIP sockets by transport (listeners and connections).")
        for kind in SIPTransportKind.allCases { open.append(Double(connections.count(of: kind)), ("transport", kind.rawValue.lowercased())) }
        let live = liveTLS.snapshot
        var failures = MetricFamily("outpost_tls_handshake_failures_total", .counter, "TLS handshakes refused, by reason (unknown_ca, expired, revoked, …).")
        for (reason, count) in tls.failures.sorted(by: { $0.key < $1.key }) { failures.append(Double(count), ("reason", MetricFamily.snakeCase(reason))) }
        return [
            MetricFamily(
                "outpost_sip_transport_events_total", .counter, "What the SIP transports received, sent, refused and dropped, by event.",
                label: "event", values: transportCounters),
            open,
            MetricFamily("outpost_sip_transactions", .gauge, "SIP transactions running now, both directions.", value: stack.activeTransactions),
            MetricFamily(
                "outpost_sip_transaction_events_total", .counter, "What the transaction layer did: retransmissions absorbed, stray responses, timeouts, …",
                label: "event", values: transactionEvents),
            responses,
            MetricFamily("outpost_tls_handshakes_total", .counter, "TLS handshakes completed.", value: tls.succeeded),
            failures,
            MetricFamily("outpost_tls_phone_connections", .gauge, "Phones' TLS connections open now.", value: live["open"] ?? 0),
            MetricFamily(
                "outpost_tls_connections_closed_distrusted_total", .counter,
                "Live TLS connections closed because their certificate stopped verifying (revoked, expired, untrusted).", value: live["closed_distrusted"] ?? 0),
        ]
    }

    private func tftpFamilies(_ tftp: TFTPStatistics) -> [MetricFamily] {
        let snapshot = tftp.snapshot
        let results: [(TFTPStatistics.Counter, String)] = [
            (.transfersCompleted, "completed"), (.transfersFailed, "failed"), (.transfersTimedOut, "timed_out"), (.transfersPastDeadline, "past_deadline"),
        ]
        let refusals: [(TFTPStatistics.Counter, String)] = [
            (.filesNotFound, "not_found"), (.accessViolations, "access_violation"), (.writeRequestsRefused, "write_request"),
            (.unsupportedModes, "unsupported_mode"), (.tooManyTransfers, "too_many_transfers"),
            (.tooManyTransfersFromClient, "too_many_transfers_from_client"), (.malformedPackets, "malformed"),
        ]
        var transfers = MetricFamily("outpost_tftp_transfers_total", .counter, "TFTP transfers that ended, by result.")
        for (counter, label) in results { transfers.append(Double(snapshot[counter] ?? 0), ("result", label)) }
        var refused = MetricFamily("outpost_tftp_refusals_total", .counter, "TFTP requests refused or dropped, by reason.")
        for (counter, label) in refusals { refused.append(Double(snapshot[counter] ?? 0), ("reason", label)) }
        return [
            MetricFamily("outpost_tftp_read_requests_total", .counter, "TFTP read requests received.", value: snapshot[.readRequests] ?? 0),
            transfers, refused,
            MetricFamily("outpost_tftp_sent_bytes_total", .counter, "File bytes sent over TFTP.", value: snapshot[.bytesSent] ?? 0),
            MetricFamily("outpost_tftp_active_transfers", .gauge, "TFTP transfers under way.", value: tftp.activeTransfers),
        ]
    }

    private func callFamilies() -> [MetricFamily] {
        let counters = calls.statistics.snapshot()
        return [
            MetricFamily("outpost_calls_active", .gauge, "Calls ringing or up now.", value: calls.activeCallCount),
            MetricFamily("outpost_call_attempts_total", .counter, "INVITEs that started a call.", value: counters["attempts"] ?? 0),
            MetricFamily(
                "outpost_calls_total", .counter, "Calls that ended, by result: answered, or the SIP status the caller got (486, 487, 488, 503, …).",
                label: "result", values: calls.statistics.byResult),
            MetricFamily(
                "outpost_calls_unknown_dialog_total", .counter, "BYE, CANCEL or re-INVITE for a dialog the edge does not hold.",
                value: counters["unknown_dialog"] ?? 0),
        ]
    }

    private func media() -> [MetricFamily] {
        let ended = relay.endedTotals
        let note = " Counted as each call ends."
        return [
            MetricFamily("outpost_media_calls_active", .gauge, "Calls whose media the relay anchors now.", value: relay.activeCalls),
            MetricFamily("outpost_media_port_pairs_in_use", .gauge, "Relay port pairs (RTP and RTCP) in use.", value: relay.pool.allocated),
            MetricFamily("outpost_media_port_pairs", .gauge, "Relay port pairs in the configured range.", value: relay.pool.capacity),
            MetricFamily("outpost_media_calls_ended_total", .counter, "Relayed calls released.", value: ended.calls),
            MetricFamily("outpost_media_received_packets_total", .counter, "RTP packets accepted from phones and peers." + note, value: ended.packetsReceived),
            MetricFamily("outpost_media_received_bytes_total", .counter, "Bytes of the RTP packets accepted." + note, value: ended.bytesReceived),
            MetricFamily("outpost_media_sent_packets_total", .counter, "RTP packets relayed out." + note, value: ended.packetsSent),
            MetricFamily("outpost_media_sent_bytes_total", .counter, "Bytes of the RTP packets relayed out." + note, value: ended.bytesSent),
            MetricFamily(
                "outpost_media_srtp_authentication_failures_total", .counter, "SRTP and SRTCP packets whose authentication tag did not verify." + note,
                value: ended.authenticationFailures),
            MetricFamily("outpost_media_srtp_replays_total", .counter, "SRTP and SRTCP packets refused as replays." + note, value: ended.replays),
            MetricFamily(
                "outpost_media_wrong_source_packets_total", .counter, "Packets from an address other than the leg's peer." + note, value: ended.wrongSource),
            MetricFamily("outpost_media_malformed_packets_total", .counter, "Packets that are not RTP or RTCP." + note, value: ended.malformed),
            MetricFamily(
                "outpost_media_dropped_packets_total", .counter, "Packets dropped before relaying (direction, payload type, no key yet)." + note,
                value: ended.dropped),
            MetricFamily("outpost_media_send_failures_total", .counter, "Packets that could not be protected or sent." + note, value: ended.sendFailures),
            MetricFamily(
                "outpost_media_expected_packets_total", .counter, "RTP packets expected by sequence number (RFC 3550), summed over streams." + note,
                value: ended.packetsExpected),
            MetricFamily("outpost_media_lost_packets_total", .counter, "RTP packets lost (RFC 3550), summed over streams." + note, value: ended.packetsLost),
            MetricFamily(
                "outpost_media_jitter_seconds_total", .counter,
                "Each stream's final interarrival jitter (RFC 3550), summed; divide by outpost_media_jitter_samples_total for the average." + note,
                value: ended.jitterMillisecondsSum / 1_000),
            MetricFamily("outpost_media_jitter_samples_total", .counter, "Streams whose jitter is in outpost_media_jitter_seconds_total." + note, value: ended.streams),
        ]
    }
}
