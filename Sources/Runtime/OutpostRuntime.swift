import Edge
import Foundation
import Logging
import NIOCore
import NIOPosix
import SIP
import SIPTransaction
import SIPTransport
import ServiceLifecycle
import Synchronization
import TFTP
import TLS
import UnixSignals

#if canImport(Glibc)
import Glibc
#endif

/// Builds every subsystem from the configuration and runs them as one service group until
/// SIGTERM or SIGINT.
public struct OutpostRuntime: Sendable {
    public let configuration: OutpostConfiguration
    public let statistics = SIPTransportStatistics()
    public let connections = SIPConnectionTable()
    public let tlsStatistics = TLSHandshakeStatistics(logger: Logger(label: "outpost.tls"))
    /// The phones' open TLS connections with their verified chains, re-checked at each reload.
    public let liveTLS = LiveTLSConnections()
    /// The provisioning builder's output, served over TFTP; replace it with `update(_:)`.
    public let generatedFiles = TFTPGeneratedFiles()
    /// Counters and recent transfers of the TFTP server; `report(json:)` is `outpost show tftp`.
    public let tftpStatistics = TFTPStatistics()
    /// Whether the call manager's TFTP server may be asked (the trunk is up); when false the
    /// cache of its files answers.
    private let tftpUpstreamAvailable: @Sendable () -> Bool
    /// Re-reads the configuration file for a reload; nil when the edge runs on a configuration
    /// given in code (tests, the embedded default), which a reload cannot change.
    private let configurationSource: (@Sendable () throws -> OutpostConfiguration)?
    private let logLevel: LogLevelSwitch

    /// The trunk's IPsec status for the domain; nil when trunk_ipsec is not configured.
    public var trunkProtection: (any TrunkProtection & Service)? { trunkService }
    private let trunkService: TrunkProtectionService?
    private let controlTopics = ControlTopicRegistry()
    private let runningRegistrar = RunningRegistrar()
    private let runningReloader = RunningReloader()
    private let running = RunningGroup()

    /// The registrar while `run` runs (for status views and tests).
    public var registrar: Registrar? { runningRegistrar.value.withLock { $0 } }

    /// `logLevel` is the switch the standard-error log handler reads (`LogLevelSwitch.shared` for
    /// `outpost run`); a reload sets it.
    public init(
        configuration: OutpostConfiguration, configurationSource: (@Sendable () throws -> OutpostConfiguration)? = nil,
        logLevel: LogLevelSwitch = LogLevelSwitch(), tftpUpstreamAvailable: @escaping @Sendable () -> Bool = { true }
    ) {
        self.configuration = configuration
        self.configurationSource = configurationSource
        self.logLevel = logLevel
        self.tftpUpstreamAvailable = tftpUpstreamAvailable
        self.trunkService = configuration.trunkIPsec.map {
            TrunkProtectionService(protection: $0, logger: Logger(label: "outpost.trunk-ipsec"))
        }
        controlTopics.add(DevicesTopic(devices: configuration.devices))
        controlTopics.add(TFTPTopic(statistics: tftpStatistics))
    }

    /// Runs one TLS reload round now rather than at the next `sip.tls.reload_interval`: reloads
    /// changed certificates, roots and CRLs, then closes live connections whose certificate no
    /// longer verifies. Returns how many were closed; nil when no reloader runs (no TLS listener).
    @discardableResult
    public func reloadTLS() -> Int? {
        runningReloader.value.withLock { $0 }?.poll().closed
    }

    /// Makes a topic available to `outpost show <name>`; call before or during `run`.
    public func addControlTopic(_ topic: any ControlTopic) { controlTopics.add(topic) }

    /// Re-reads what can be re-read while running, as SIGHUP does: the configuration file's
    /// inventory, dial plan and log level (when the edge was given a file), then the TLS identity,
    /// trust roots and CRLs, bracketed by `RELOADING=1` and `READY=1` for systemd. Does nothing
    /// before the edge is ready.
    public func reload() { running.value.withLock { $0.reloads?.request() } }

    /// Begins the same graceful shutdown as SIGTERM; `run` returns once it is done.
    public func shutdownGracefully() async {
        guard let group = running.value.withLock({ $0.group }) else { return }
        await group.triggerGracefulShutdown()
    }

    /// `notifier` is systemd's notify socket (`SystemdNotifier.fromProcessEnvironment()` under
    /// systemd); by default the edge tells nobody.
    public func run(
        logger: Logger, notifier: SystemdNotifier = SystemdNotifier(socketPath: nil),
        onListening: @escaping @Sendable ([SocketAddress]) -> Void = { _ in },
        onTFTPListening: @escaping @Sendable (SocketAddress) -> Void = { _ in },
        onAdminListening: @escaping @Sendable (SocketAddress?) -> Void = { _ in }
    ) async throws {
        // systemd hears READY=1 once SIP, the control socket and TFTP all listen.
        let gate = ReadinessGate(waitingFor: configuration.tftp.enabled ? ["sip", "control", "tftp"] : ["sip", "control"])
        try Self.prepareStateDirectory(configuration.stateDirectory)
        let tlsContexts = TLSContextStore(try EdgePKI.serverContexts(configuration, logger: logger))
        let eventLoops = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let capabilities = EdgeCapabilities(allowedMethods: [.options, .register], serverName: configuration.sip.serverName)
        let media = MediaService(configuration: configuration.media, logger: logger)
        let sender = SIPSender(connections: connections, statistics: statistics)
        // After a WAN outage every phone registers at once: a 5 s Timer J (not 32 s) and room for
        // 200,000 transactions keep a UDP storm of 40,000 REGISTER/s out of 503.
        let stack = SIPStack(
            sender: sender, timerLoops: eventLoops.makeIterator().map { $0 },
            timers: TransactionTimers(nonInviteServerLinger: .seconds(5)), capacity: 200_000, logger: logger)
        let registration = try RegistrarAssembly.make(
            configuration, capabilities: capabilities, stack: stack, group: eventLoops, connections: connections,
            statistics: statistics, protection: trunkService, logger: logger)
        runningRegistrar.value.withLock { $0 = registration.registrar }
        defer { runningRegistrar.value.withLock { $0 = nil } }
        defer { runningReloader.value.withLock { $0 = nil } }
        for topic in registration.topics { controlTopics.add(topic) }
        // A phone on TLS registered over a TLS listener; without one the edge has no PKI of its
        // own to present and must not create one as a side effect.
        let phoneTLSClient = configuration.sip.listeners.contains { $0.transport == .tls }
            ? try? EdgePKI.trunkClientContext(configuration, logger: logger) : nil
        let phones = PhoneFlows(
            stack: stack, connections: connections, statistics: statistics, group: eventLoops, tlsClient: phoneTLSClient, logger: logger)
        controlTopics.add(SIPTopic(transport: statistics, connections: connections, stack: stack, phones: phones, liveTLS: liveTLS))
        controlTopics.add(
            ReachabilityTopic(registrar: registration.registrar, phones: phones, serverName: configuration.sip.serverName))
        let callRecords = try SQLiteCallRecords.open(stateDirectory: configuration.stateDirectory, logger: logger)
        let calls = CallRouter(
            settings: configuration.calls.settings(
                mediaAddress: configuration.media.address, serverName: configuration.sip.serverName,
                trunk: configuration.trunk.map {
                    TrunkCallSettings(
                        domain: $0.domain ?? $0.callManagers[0].address, mediaSecurity: configuration.calls.trunkMedia,
                        signallingProtected: trunkService != nil)
                }),
            registrar: registration.registrar,
            signalling: StackCallSignalling(stack: stack, phones: phones, connections: connections, trunk: registration.upstream),
            media: media.callMedia, records: callRecords, dialPlan: configuration.dialPlan,
            wallClock: wallClockMilliseconds, logger: Logger(label: "outpost.calls"))
        controlTopics.add(CallsTopic(calls: calls))
        stack.attach(EdgeCore(capabilities: capabilities, registrar: registration.registrar, calls: calls))
        let sip = SIPService(
            listeners: configuration.sip.listeners,
            settings: SIPTransportSettings(
                maximumMessageSize: configuration.sip.maximumMessageSize,
                idleTimeout: .seconds(Int64(configuration.sip.idleTimeoutSeconds)),
                messageDeadline: .seconds(Int64(configuration.sip.messageDeadlineSeconds)),
                maximumConnectionsPerAddress: configuration.sip.maximumConnectionsPerAddress),
            group: eventLoops,
            receiver: stack,
            connections: connections,
            statistics: statistics, tlsContexts: tlsContexts, defaultClientCertificates: configuration.sip.tls.clientCertificates,
            tlsObserver: tlsStatistics, liveTLS: liveTLS, logger: logger,
            onListening: { addresses in
                // The caller hears first, so whoever waits for READY=1 finds its callbacks done.
                onListening(addresses)
                gate.arrive("sip")
            })
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: sip)]
        let control = ControlSocketService(
            stateDirectory: configuration.stateDirectory, topics: controlTopics, group: eventLoops, logger: logger,
            onListening: { gate.arrive("control") })
        services.append(.init(service: control))
        services += registration.services.map { .init(service: $0) }
        controlTopics.add(MediaTopic(service: media))
        services.append(.init(service: media))
        services.append(.init(service: CallRecordHeartbeat(records: callRecords, interval: .seconds(5), logger: logger)))
        let edgeMetrics = EdgeMetrics(
            registrar: registration.registrar, survivability: registration.survivability, monitor: registration.monitor,
            trunkProtection: trunkService, transport: statistics, connections: connections, stack: stack,
            tls: tlsStatistics, liveTLS: liveTLS, tftp: configuration.tftp.enabled ? tftpStatistics : nil, calls: calls, relay: media.relay)
        let status = StatusTopic(
            sources: edgeMetrics, serverName: configuration.sip.serverName, certificateFile: EdgePKI.serverCertificateFile(configuration),
            expiryWarningDays: configuration.pki.expiryWarningDays, startedAt: Date(), alarms: RecentAlarms.shared)
        controlTopics.add(status)
        if configuration.admin.enabled {
            let exposition = PrometheusExposition()
            let adminStatistics = AdminHTTPStatistics()
            let registrar = registration.registrar
            let admin = configuration.admin
            let authenticator =
                admin.passwordHash != nil || !admin.certificateNames.isEmpty
                ? AdminAuthenticator(username: admin.username, hash: admin.passwordHash, certificateNames: admin.certificateNames) : nil
            var adminTLS: TLSContext?
            if admin.tls {
                var settings = configuration
                settings.sip.tls.clientCertificates = .optional
                adminTLS = try EdgePKI.serverContext(settings, logger: logger)
            }
            let routes = AdminRoutes(
                metrics: {
                    let logins = authenticator.map {
                        [MetricFamily("outpost_admin_login_failures_total", .counter, "Status page logins refused (wrong user or password).", value: $0.failedAttempts)]
                    } ?? []
                    return exposition.render(await edgeMetrics.collect() + adminStatistics.families + logins)
                },
                page: {
                    StatusPage.render(
                        StatusPage.Content(
                            status: await status.snapshot(), bindings: registrar.bindings(), calls: await calls.activeCalls(),
                            records: (try? callRecords.records(limit: 20)) ?? [], now: Date()))
                },
                authenticator: authenticator)
            services.append(
                .init(
                    service: AdminHTTPService(
                        configuration: configuration.admin, group: eventLoops, statistics: adminStatistics, routes: routes,
                        tlsContext: adminTLS, logger: logger, onListening: onAdminListening)))
        }
        if let trunk = trunkProtection {
            services.append(.init(service: trunk))
        }
        var provisioning: ProvisioningBuilder?
        if configuration.tftp.enabled {
            // The call manager's TFTP server is asked only while its trunk is up; during an
            // outage the cache answers.
            let registrar = registration.registrar
            let trunkConfigured = configuration.trunk != nil
            let upstreamAvailable: @Sendable () -> Bool = { [tftpUpstreamAvailable] in
                tftpUpstreamAvailable() && (!trunkConfigured || registrar.mode != .survivable)
            }
            let tftp = TFTPService(
                configuration: configuration.tftp, cacheDirectory: configuration.stateDirectory + "/tftp-cache",
                generatedFiles: generatedFiles, statistics: tftpStatistics, upstreamAvailable: upstreamAvailable,
                group: eventLoops, logger: logger,
                onListening: { address in
                    onTFTPListening(address)
                    gate.arrive("tftp")
                })
            services.append(.init(service: tftp))
            let files = generatedFiles
            let builder = ProvisioningBuilder(configuration: configuration, logger: logger) { files.update($0) }
            provisioning = builder
            services.append(.init(service: builder))
        }
        var tlsReloader: TLSContextReloader?
        if configuration.sip.listeners.contains(where: { $0.transport == .tls }) {
            let registrar = registration.registrar
            let reloader = TLSContextReloader(
                configuration: configuration, store: tlsContexts,
                interval: .seconds(configuration.sip.tls.reloadIntervalSeconds), live: liveTLS, connections: connections,
                flowsGone: { registrar.markFlowsGone(over: $0) }, logger: logger)
            services.append(.init(service: reloader))
            runningReloader.value.withLock { $0 = reloader }
            tlsReloader = reloader
        }
        // Next to last: at SIGTERM the calls drain while everything they need still runs.
        services.append(.init(service: CallDrainService(calls: calls, drain: .seconds(configuration.calls.drainSeconds), logger: logger)))
        // Last, so that at SIGTERM it is the first to hear of the shutdown and says STOPPING=1
        // before the listeners close.
        let reloads = ReloadRequests()
        let registrar = registration.registrar
        let configurationReloader = configurationSource.map { source in
            ConfigurationReloader(
                source: source, running: configuration, registrar: registrar, calls: calls, journal: registration.journal,
                provisioning: provisioning, trunkMonitor: registration.monitor, topics: controlTopics, logLevel: logLevel, logger: logger)
        }
        controlTopics.add(
            ReloadTopic { [tlsReloader] in
                let outcome = await configurationReloader?.reload().description ?? "this edge runs on a configuration given at start, not a file: nothing to re-read"
                let tls = tlsReloader.map { $0.reloadNow() ? "TLS files re-read: they had changed" : "TLS files re-read: unchanged" } ?? "no TLS listener"
                return outcome + "\n" + tls + "\n"
            })
        services.append(
            .init(
                service: SystemdNotifyService(
                    notifier: notifier, gate: gate, requests: reloads, group: eventLoops,
                    status: { Self.status(registrar) },
                    reload: { [tlsReloader] in
                        _ = await configurationReloader?.reload()
                        tlsReloader?.reloadNow()
                    }, logger: logger)))
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        running.value.withLock { $0 = (group, reloads) }
        defer { running.value.withLock { $0 = (nil, nil) } }
        logger.notice("Outpost starting", metadata: ["state_directory": "\(configuration.stateDirectory)"])
        do {
            try await group.run()
        } catch {
            try? await eventLoops.shutdownGracefully()
            throw error
        }
        try await eventLoops.shutdownGracefully()
        logger.notice("Outpost stopped")
    }

    /// What systemd shows after "Status:": true and cheap, e.g. "registrar normal, 3 bindings".
    static func status(_ registrar: Registrar) -> String {
        let count = registrar.bindings().count
        return "registrar \(registrar.mode.rawValue), \(count) binding\(count == 1 ? "" : "s")"
    }

    /// The state directory holds keys and registrations: owner-only, created if missing.
    static func prepareStateDirectory(_ path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw StateDirectoryError(path: path, reason: "is not a directory") }
            guard access(path, W_OK) == 0 else { throw StateDirectoryError(path: path, reason: "is not writable") }
            return
        }
        var prefix = ""
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o700) != 0, errno != EEXIST {
                throw StateDirectoryError(path: path, reason: String(cString: strerror(errno)))
            }
        }
    }
}

public struct StateDirectoryError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "state directory \(path): \(reason)" }
}

/// Shares the TLS reloader `run` builds with whoever holds the runtime.
private final class RunningReloader: Sendable {
    let value = Mutex<TLSContextReloader?>(nil)
}

/// The service group and reload requests of the `run` under way, for `reload()` and `shutdownGracefully()`.
private final class RunningGroup: Sendable {
    let value = Mutex<(group: ServiceGroup?, reloads: ReloadRequests?)>((nil, nil))
}

/// Shares the registrar `run` builds with whoever holds the runtime.
private final class RunningRegistrar: Sendable {
    let value = Mutex<Registrar?>(nil)
}
