import Edge
import Foundation
import Logging
import NIOCore
import PKI
import SIPTransport
import ServiceLifecycle

/// The registrar and what keeps it honest, built at start: the journal (bindings restored from
/// it), and with a trunk the survivability controller, the call managers and the keep-alive
/// monitor.
struct RegistrarAssembly {
    let registrar: Registrar
    let services: [any Service]
    let topics: [any ControlTopic]
    /// The call managers, for the calls the edge carries over the trunk.
    let upstream: TrunkUpstream?
    /// With a trunk: its health and the keep-alive monitor (for status views and metrics).
    let survivability: SurvivabilityController?
    let monitor: TrunkMonitorService?
    /// Where bindings and the inventory are kept (a reload rewrites the inventory).
    let journal: SQLiteBindingJournal

    static func make(
        _ configuration: OutpostConfiguration, capabilities: EdgeCapabilities, stack: SIPStack, group: any EventLoopGroup,
        connections: SIPConnectionTable, statistics: SIPTransportStatistics, protection: (any TrunkProtection)?, logger: Logger
    ) throws -> RegistrarAssembly {
        let inventory = try DeviceInventory(configuration.devices)
        let journal = try SQLiteBindingJournal(stateDirectory: configuration.stateDirectory)
        try journal.writeInventory(configuration.devices)
        let restored = try journal.loadBindings()
        let wallClock: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }
        let settings = RegistrarSettings(
            realm: configuration.registrar.realm, minimumExpires: configuration.registrar.minimumExpires,
            maximumExpires: configuration.registrar.maximumExpires, defaultExpires: configuration.registrar.defaultExpires,
            digestAlgorithms: configuration.registrar.digestAlgorithms, guessing: configuration.registrar.guessing)
        let policy = RequestPolicy(capabilities: capabilities)

        var controller: SurvivabilityController?
        var upstream: TrunkUpstream?
        if let trunk = configuration.trunk {
            let health = TrunkHealth.Settings(
                misses: trunk.failoverMisses, successes: trunk.failbackSuccesses, holdDown: .seconds(trunk.holdDown))
            controller = SurvivabilityController(
                settings: health, logger: Logger(label: "outpost.survivability"), wallClock: { Date().timeIntervalSince1970 })
            let tlsContext = trunk.callManagers.contains { $0.transport == .tls }
                ? try EdgePKI.trunkClientContext(configuration, logger: logger) : nil
            upstream = TrunkUpstream(
                trunk: trunk, stack: stack, group: group, tlsContext: tlsContext, protection: protection, connections: connections,
                statistics: statistics,
                relayTimeout: max(.seconds(2), health.keepAliveTimeout(interval: .seconds(trunk.optionsInterval))),
                logger: Logger(label: "outpost.trunk"))
        }
        let registrar = Registrar(
            settings: settings, hashing: OpenSSLDigests.hashing(fipsMode: configuration.sip.tls.fipsMode),
            ratePerSource: configuration.registrar.ratePerSource, inventory: inventory, policy: policy,
            journal: journal, restored: restored, upstream: upstream,
            upstreamDomain: configuration.trunk.map { $0.domain ?? $0.callManagers[0].address }, survivability: controller,
            logger: Logger(label: "outpost.registrar"), wallClock: wallClock)
        logger.notice(
            "registrar ready",
            metadata: [
                "devices": "\(inventory.devices.count)", "restored_bindings": "\(registrar.bindings().count)",
                "mode": "\(registrar.mode.rawValue)", "journal": "\(journal.path)",
            ])

        var services: [any Service] = [RegistrarService(registrar: registrar, interval: .seconds(10), journal: journal)]
        var monitor: TrunkMonitorService?
        if let trunk = configuration.trunk, let upstream, let controller {
            let service = TrunkMonitorService(
                upstream: upstream, controller: controller, registrar: registrar, trunk: trunk,
                serverName: configuration.sip.serverName, logger: Logger(label: "outpost.trunk"))
            services.append(service)
            monitor = service
        }
        let topics: [any ControlTopic] = [
            RegistrationsTopic(registrar: registrar),
            TrunkTopic(configuration: configuration.trunk, controller: controller, monitor: monitor),
        ]
        return RegistrarAssembly(
            registrar: registrar, services: services, topics: topics, upstream: upstream, survivability: controller, monitor: monitor,
            journal: journal)
    }
}
