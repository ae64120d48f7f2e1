import Dispatch
import Foundation
import Edge
import Logging
import ServiceLifecycle
import Synchronization
import TrunkIPsec
import XFRM

/// Runs the trunk's IPsec protection for `outpost run`: installs and verifies the XFRM policies
/// and SAs, follows the kernel's XFRM events, raises and clears alarms, and publishes whether the
/// trunk may carry signalling. Fail closed: the status stays `.unprotected` until the monitor
/// reports the trunk up, and a key file or configuration the edge refuses keeps it down while
/// the rest of the edge (the branch's phones) goes on working.
final class TrunkProtectionService: Service, TrunkProtection {
    private let protection: TrunkProtectionConfiguration
    private let logger: Logger
    private let status = Mutex(TrunkProtectionStatus.starting)
    private let subscribers = Mutex<[Int: AsyncStream<TrunkProtectionStatus>.Continuation]>([:])
    private let nextSubscriber = Atomic(0)
    private let stopRequested = Atomic(false)
    private let associations = Mutex<[IPsecAssociationCounters]>([])

    /// The trunk's ESP SAs with their counters, as the last verification read them from the kernel.
    var securityAssociations: [IPsecAssociationCounters] { associations.withLock { $0 } }

    init(protection: TrunkProtectionConfiguration, logger: Logger) {
        self.protection = protection
        self.logger = logger
    }

    func currentStatus() async -> TrunkProtectionStatus { status.withLock { $0 } }

    func statusUpdates() -> AsyncStream<TrunkProtectionStatus> {
        let (stream, continuation) = AsyncStream.makeStream(of: TrunkProtectionStatus.self)
        let id = nextSubscriber.add(1, ordering: .relaxed).oldValue
        continuation.yield(status.withLock { $0 })
        subscribers.withLock { $0[id] = continuation }
        continuation.onTermination = { [weak self] _ in _ = self?.subscribers.withLock { $0.removeValue(forKey: id) } }
        return stream
    }

    func run() async throws {
        // The driver blocks on the kernel's event socket, so it gets a thread of its own; the
        // namespace, too, is a property of that thread.
        let thread = DispatchQueue(label: "outpost.trunk-ipsec")
        let completion = ThreadCompletion()
        thread.async { [self] in
            protectUntilStopped()
            completion.finish()
        }
        try? await gracefulShutdown()
        stopRequested.store(true, ordering: .relaxed)
        // Waited for even when cancelled: what the edge installed must be gone when run returns.
        await completion.wait()
    }

    private func protectUntilStopped() {
        let driver: TrunkProtectionDriver
        do {
            if let namespace = protection.networkNamespace { try NetworkNamespace.enterOnCurrentThread(path: namespace) }
            let keys = protection.keying == .manual
                ? try TrunkKeyFile.load(path: protection.keyFile, configuration: protection) : nil
            let engine = try TrunkProtectionEngine(configuration: protection, keys: keys, socket: try NetlinkXFRMSocket())
            driver = TrunkProtectionDriver(engine: engine, events: try XFRMEventSocket())
        } catch {
            logger.critical("trunk IPsec cannot start; the trunk stays down", metadata: ["error": "\(error)"])
            publish(.unprotected(reason: "\(error)"))
            return
        }
        logger.notice(
            "trunk IPsec starting",
            metadata: ["keying": "\(protection.keying.rawValue)", "call_managers": "\(protection.callManagers.map { "\($0)" })",
                       "suite": "\(protection.suite)"])
        carryOut(driver.start())
        while !stopRequested.load(ordering: .relaxed) {
            carryOut(driver.poll(timeoutMilliseconds: 500))
            if let states = driver.lastSnapshot?.states {
                associations.withLock { $0 = states.filter { $0.proto == .esp }.map(IPsecAssociationCounters.init) }
            }
        }
        associations.withLock { $0 = [] }
        publish(.unprotected(reason: "the edge is stopping"))
        do {
            let removed = try driver.shutdown()
            logger.notice("trunk IPsec removed what the edge installed", metadata: ["removed": "\(removed)"])
        } catch {
            logger.error("trunk IPsec could not remove all it installed", metadata: ["error": "\(error)"])
        }
    }

    private func carryOut(_ actions: [TrunkMonitor.Action]) {
        for action in actions {
            switch action {
            case .trunkUp:
                logger.notice("trunk up: IPsec policies and SAs are installed and verified")
                publish(.protected)
            case .trunkDown(let reason):
                logger.critical("trunk down: \(reason)")
                publish(.unprotected(reason: reason))
            case .raise(let alarm):
                switch alarm.severity {
                case .critical: logger.critical("alarm raised: \(alarm)")
                default: logger.warning("alarm raised: \(alarm)")
                }
            case .clear(let key):
                logger.notice("alarm cleared: \(key.code.rawValue)\(key.peer.map { " \($0)" } ?? "")")
            case .log(let text):
                logger.info("trunk IPsec: \(text)")
            case .verify, .repair:
                continue
            }
        }
    }

    /// The monitor judges the trunk as a whole, so every call manager shares its state.
    private func publish(_ state: TrunkProtectionStatus.State) {
        let managers = Dictionary(uniqueKeysWithValues: protection.callManagers.map { ("\($0)", state) })
        let new = TrunkProtectionStatus(state: state, callManagers: managers)
        let changed = status.withLock { current -> Bool in
            guard current != new else { return false }
            current = new
            return true
        }
        guard changed else { return }
        for continuation in subscribers.withLock({ Array($0.values) }) { continuation.yield(new) }
    }
}

/// A one-shot signal from a thread to async code that, unlike an AsyncStream, is still awaited
/// when the waiting task has been cancelled.
private final class ThreadCompletion: Sendable {
    private struct State {
        var finished = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    func finish() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    func wait() async {
        await withCheckedContinuation { continuation in
            let alreadyFinished = state.withLock { state -> Bool in
                if !state.finished { state.waiter = continuation }
                return state.finished
            }
            if alreadyFinished { continuation.resume() }
        }
    }
}

/// One ESP SA of the trunk, for metrics: which way it points, and what the kernel counted on it.
struct IPsecAssociationCounters: Sendable, Equatable {
    var spi: String
    var source: String
    var destination: String
    var bytes: UInt64
    var packets: UInt64
    var integrityFailures: UInt64
    var replayDrops: UInt64

    init(spi: String, source: String, destination: String, bytes: UInt64, packets: UInt64, integrityFailures: UInt64, replayDrops: UInt64) {
        self.spi = spi
        self.source = source
        self.destination = destination
        self.bytes = bytes
        self.packets = packets
        self.integrityFailures = integrityFailures
        self.replayDrops = replayDrops
    }

    init(_ state: XFRMState) {
        self.init(
            spi: String(format: "0x%08x", state.spi), source: state.source.map { "\($0)" } ?? "?", destination: state.destination.map { "\($0)" } ?? "?",
            bytes: state.current.bytes, packets: state.current.packets, integrityFailures: UInt64(state.statistics.integrityFailed),
            replayDrops: UInt64(state.statistics.replay) + UInt64(state.statistics.replayWindow))
    }
}
