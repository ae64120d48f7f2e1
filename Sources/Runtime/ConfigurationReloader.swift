import Edge
import Logging
import SIPTransport
import Synchronization

/// Applies a re-read configuration file to the running edge (SIGHUP, `outpost reload`): the
/// inventory, the dial plan and the log level change in place, without dropping a registration
/// or a call; a file with any problem is refused whole and the running configuration stays.
/// Sections that only a restart can change are named, so the operator is never left believing in
/// a setting the edge does not have.
final class ConfigurationReloader: Sendable {
    struct Outcome: Sendable, CustomStringConvertible {
        var applied: [String] = []
        var needsRestart: [String] = []
        var refused: String?

        var description: String {
            if let refused { return "reload refused, the running configuration stays: \(refused)" }
            var parts = [applied.isEmpty ? "nothing to change" : "applied: \(applied.joined(separator: ", "))"]
            if !needsRestart.isEmpty { parts.append("changed but applied only at the next start: \(needsRestart.joined(separator: ", "))") }
            return parts.joined(separator: "; ")
        }
    }

    private let source: @Sendable () throws -> OutpostConfiguration
    private let running: Mutex<OutpostConfiguration>
    private let registrar: Registrar
    private let calls: CallRouter
    private let journal: SQLiteBindingJournal
    private let provisioning: ProvisioningBuilder?
    private let trunkMonitor: TrunkMonitorService?
    private let topics: ControlTopicRegistry
    private let logLevel: LogLevelSwitch
    private let logger: Logger

    init(
        source: @escaping @Sendable () throws -> OutpostConfiguration, running: OutpostConfiguration, registrar: Registrar, calls: CallRouter,
        journal: SQLiteBindingJournal, provisioning: ProvisioningBuilder?, trunkMonitor: TrunkMonitorService?, topics: ControlTopicRegistry,
        logLevel: LogLevelSwitch, logger: Logger
    ) {
        self.trunkMonitor = trunkMonitor
        self.source = source
        self.running = Mutex(running)
        self.registrar = registrar
        self.calls = calls
        self.journal = journal
        self.provisioning = provisioning
        self.topics = topics
        self.logLevel = logLevel
        self.logger = logger
    }

    func reload() async -> Outcome {
        let new: OutpostConfiguration
        let inventory: DeviceInventory
        do {
            new = try source()
            inventory = try DeviceInventory(new.devices)
        } catch {
            logger.error("configuration reload refused; the running configuration stays", metadata: ["error": "\(error)"])
            return Outcome(refused: "\(error)")
        }
        var callManagers: [OutpostConfiguration.Trunk.CallManager]?
        let outcome = running.withLock { old in
            var outcome = Outcome()
            if new.trunk != old.trunk, let changed = liveTrunkChange(from: old.trunk, to: new.trunk) {
                callManagers = changed
                outcome.applied.append("trunk.call_managers (\(changed.map(\.remote).joined(separator: ", ")))")
                old.trunk = new.trunk
            }
            if new.devices != old.devices {
                let removed = registrar.replaceInventory(inventory)
                do { try journal.writeInventory(new.devices) } catch {
                    logger.error("inventory not written to the journal", metadata: ["error": "\(error)"])
                }
                provisioning?.replaceDevices(new.devices)
                topics.add(DevicesTopic(devices: new.devices))
                outcome.applied.append("devices (\(new.devices.count); bindings removed for \(removed.isEmpty ? "no line" : removed.joined(separator: " ")))")
                old.devices = new.devices
            }
            if new.dialPlan != old.dialPlan {
                calls.replaceDialPlan(new.dialPlan)
                outcome.applied.append("dial_plan (\(new.dialPlan.rules.count) rules)")
                old.dialPlan = new.dialPlan
            }
            if new.logLevel != old.logLevel {
                logLevel.current = new.logLevel
                outcome.applied.append("log.level \(new.logLevel)")
                old.logLevel = new.logLevel
            }
            outcome.needsRestart = Self.restartOnlySections(old, new)
            return outcome
        }
        if let callManagers, let trunkMonitor { await trunkMonitor.replaceCallManagers(callManagers) }
        let level: Logger.Level = outcome.needsRestart.isEmpty ? .notice : .warning
        logger.log(level: level, "configuration reloaded", metadata: ["outcome": "\(outcome)"])
        return outcome
    }

    /// The new call managers when only they changed and the trunk's domain (the phones'
    /// addresses of record upstream) stays: keep-alives, REGISTERs and new calls move to them, the
    /// calls up on a call manager still listed stay on it. Anything else about the trunk takes a
    /// restart.
    private func liveTrunkChange(from old: OutpostConfiguration.Trunk?, to new: OutpostConfiguration.Trunk?) -> [OutpostConfiguration.Trunk.CallManager]? {
        guard let old, let new, let trunkMonitor else { return nil }
        var same = new
        same.callManagers = old.callManagers
        guard same == old, (old.domain ?? old.callManagers[0].address) == (new.domain ?? new.callManagers[0].address) else { return nil }
        guard trunkMonitor.canReachTLS || !new.callManagers.contains(where: { $0.transport == .tls }) else { return nil }
        return new.callManagers
    }

    /// The sections whose change takes a restart; nil fields compare as absent.
    static func restartOnlySections(_ running: OutpostConfiguration, _ new: OutpostConfiguration) -> [String] {
        var changed: [String] = []
        if running.sip != new.sip { changed.append("sip") }
        if running.pki != new.pki { changed.append("pki") }
        if running.trunkIPsec != new.trunkIPsec { changed.append("trunk_ipsec") }
        if running.trunk != new.trunk { changed.append("trunk") }
        if running.registrar != new.registrar { changed.append("registrar") }
        if running.tftp != new.tftp { changed.append("tftp") }
        if running.provisioning != new.provisioning { changed.append("provisioning") }
        if running.media != new.media { changed.append("media") }
        if running.calls != new.calls { changed.append("calls") }
        if running.admin != new.admin { changed.append("admin") }
        if running.stateDirectory != new.stateDirectory { changed.append("state_directory") }
        return changed
    }
}

/// The level of the edge's standard-error log, which a reload may change while every subsystem's
/// logger goes on using the handler it was given.
public final class LogLevelSwitch: Sendable {
    public static let shared = LogLevelSwitch()
    private let level = Mutex(Logger.Level.info)

    public init() {}

    public var current: Logger.Level {
        get { level.withLock { $0 } }
        set { level.withLock { $0 = newValue } }
    }

    /// `inner` at whatever level the switch says now.
    public func handler(_ inner: some LogHandler) -> any LogHandler { SwitchedLevelLogHandler(inner: inner, levelSwitch: self) }
}

struct SwitchedLevelLogHandler<Inner: LogHandler>: LogHandler {
    var inner: Inner
    let levelSwitch: LogLevelSwitch

    /// The switch decides; a subsystem setting its own logger's level must not change everyone's.
    var logLevel: Logger.Level {
        get { levelSwitch.current }
        set {}
    }

    var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        guard event.level >= levelSwitch.current else { return }
        inner.log(event: event)
    }
}
