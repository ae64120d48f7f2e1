import Edge
import Logging
import SIP
import ServiceLifecycle
import Synchronization

/// Keeps the trunk's health current: an OPTIONS keep-alive to every call manager each interval,
/// the results reported to the survivability controller, and hand-back run when it calls for it.
///
/// A keep-alive counts as missed after `TrunkHealth.Settings.keepAliveTimeout`, and the next one
/// goes at once after a miss, so failover takes at most `interval × misses + 0.25 s`.
final class TrunkMonitorService: Service, Sendable {
    private let upstream: TrunkUpstream
    private let controller: SurvivabilityController
    private let registrar: Registrar
    private let interval: Duration
    private let upstreamRefresh: Duration
    private let probeTimeout: Duration
    private let serverName: String
    private let logger: Logger
    private let sequence = Atomic<UInt32>(0)
    private let callID = SIPIdentifiers.callID()
    /// By call manager (`TrunkConnection.remote`): the last keep-alive's round trip, or why it failed.
    let lastRoundTrips = Mutex<[String: Duration]>([:])
    let lastFailures = Mutex<[String: String]>([:])

    init(
        upstream: TrunkUpstream, controller: SurvivabilityController, registrar: Registrar, trunk: OutpostConfiguration.Trunk,
        serverName: String, logger: Logger
    ) {
        self.upstream = upstream
        self.controller = controller
        self.registrar = registrar
        self.interval = .seconds(trunk.optionsInterval)
        self.upstreamRefresh = .seconds(trunk.upstreamRefresh)
        self.probeTimeout = TrunkHealth.Settings(misses: trunk.failoverMisses).keepAliveTimeout(interval: .seconds(trunk.optionsInterval))
        self.serverName = serverName
        self.logger = logger
    }

    /// Whether the edge can open TLS to a call manager a reload adds.
    var canReachTLS: Bool { upstream.canReachTLS }

    /// The call managers now (a reload may change them), in configured order.
    var callManagers: [OutpostConfiguration.Trunk.CallManager] { upstream.connections.map(\.callManager) }

    /// A reload changed the call managers: keep-alives go to the new list from the next round,
    /// and the connections of those no longer listed are closed.
    func replaceCallManagers(_ callManagers: [OutpostConfiguration.Trunk.CallManager]) async {
        let removed = upstream.replaceCallManagers(callManagers)
        let current = Set(upstream.connections.map(\.remote))
        lastRoundTrips.withLock { $0 = $0.filter { current.contains($0.key) } }
        lastFailures.withLock { $0 = $0.filter { current.contains($0.key) } }
        for connection in removed { await connection.close() }
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.monitor() }
                group.addTask { await self.handBackWhenAsked() }
                group.addTask { await self.refreshUpstream() }
            }
        }
        await upstream.close()
    }

    private func monitor() async {
        let clock = ContinuousClock()
        while !Task.isCancelled {
            let started = clock.now
            let answered = await probeAll()
            controller.advance()
            let pause: Duration = answered || controller.mode != .normal ? interval - started.duration(to: clock.now) : .zero
            var wake = clock.now + max(pause, .zero)
            if let deadline = controller.nextDeadline, deadline < wake { wake = deadline }
            try? await clock.sleep(until: wake)
            controller.advance()
        }
    }

    /// One keep-alive to every call manager; true when any answered.
    private func probeAll() async -> Bool {
        let connections = upstream.connections
        let results = await withTaskGroup(of: (Int, Result<Duration, TrunkFailure>).self) { group in
            for (index, connection) in connections.enumerated() {
                group.addTask { (index, await self.probe(connection)) }
            }
            var results: [(Int, Result<Duration, TrunkFailure>)] = []
            for await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }
        }
        // A probe cut short by shutdown says nothing about the call manager.
        guard !Task.isCancelled else { return false }
        var failures: [String] = []
        var transportFailure = false
        for (index, result) in results {
            let connection = connections[index]
            switch result {
            case .success(let roundTrip):
                upstream.recordProbe(of: connection, answered: true)
                lastRoundTrips.withLock { $0[connection.remote] = roundTrip }
                lastFailures.withLock { $0[connection.remote] = nil }
            case .failure(let failure):
                upstream.recordProbe(of: connection, answered: false)
                lastRoundTrips.withLock { $0[connection.remote] = nil }
                lastFailures.withLock { $0[connection.remote] = "\(failure)" }
                failures.append("\(failure)")
                if case .transport = failure { transportFailure = true }
            }
        }
        if failures.count < results.count {
            controller.probeAnswered()
            return true
        }
        let cause = failures.joined(separator: "; ")
        if transportFailure { controller.transportFailed(cause: cause) } else { controller.probeMissed(cause: cause) }
        return false
    }

    private func probe(_ connection: TrunkConnection) async -> Result<Duration, TrunkFailure> {
        let clock = ContinuousClock()
        let started = clock.now
        do {
            _ = try await connection.send(options(to: connection), timeout: probeTimeout)
            return .success(started.duration(to: clock.now))
        } catch let failure as TrunkFailure {
            return .failure(failure)
        } catch {
            return .failure(.transport("\(error)"))
        }
    }

    /// Any final response proves the call manager alive (RFC 3261 §11: even 4xx/5xx answers).
    private func options(to connection: TrunkConnection) -> SIPRequest {
        let target = connection.callManager
        let host = target.address.contains(":") ? "[\(target.address)]" : target.address
        return SIPRequest(
            outOfDialog: .options, uri: .sip(SIPURI(host: target.address, port: target.port)), from: "sip:outpost@\(host)",
            to: "sip:\(host):\(target.port)", callID: callID, cseq: sequence.add(1, ordering: .relaxed).newValue,
            extra: [(.userAgent, serverName), (.accept, "application/sdp")])
    }

    /// In normal mode, re-registers every live binding upstream: first as soon as a call manager
    /// answers after start (bindings made before a restart, during an outage, were never handed
    /// back), then every `upstream_refresh`, so a call manager that lost its registrations
    /// learns them again within that time.
    private func refreshUpstream() async {
        let clock = ContinuousClock()
        var next = clock.now
        while !Task.isCancelled {
            if controller.mode == .normal, controller.everAnswered, clock.now >= next {
                let (accepted, failed) = await registrar.reRegisterUpstream(.refresh)
                if accepted + failed > 0 {
                    logger.info("bindings refreshed upstream", metadata: ["accepted": "\(accepted)", "failed": "\(failed)"])
                }
                next = clock.now + upstreamRefresh
            }
            try? await clock.sleep(for: min(interval, upstreamRefresh))
        }
    }

    private func handBackWhenAsked() async {
        for await mode in controller.modes() where mode == .failback {
            logger.notice("handing registrations back to the call manager", metadata: ["bindings": "\(registrar.bindings().count)"])
            let (accepted, failed) = await registrar.handBack()
            controller.handBackCompleted(summary: "\(accepted) addresses of record re-registered upstream, \(failed) failed")
        }
    }
}
