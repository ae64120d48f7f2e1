import XFRM

/// Runs the monitor against the kernel: feeds it read-backs, kernel events and ticks, carries out
/// its `verify` and `repair` actions itself, and hands back the rest (trunk up/down, alarms, log
/// lines) for the runtime to publish.
///
/// Blocking and not `Sendable`: run it on one dedicated thread, calling `poll` in a loop (each
/// call waits at most `timeoutMilliseconds` for kernel events). Both sockets belong to the
/// network namespace of the thread that created them.
public final class TrunkProtectionDriver {
    public let engine: TrunkProtectionEngine
    public let events: XFRMEventSocket
    public private(set) var monitor: TrunkMonitor
    /// The latest read-back, for `outpost show ipsec`.
    public private(set) var lastAssessment: TrunkAssessment?
    public private(set) var lastSnapshot: XFRMSnapshot?

    public init(engine: TrunkProtectionEngine, events: XFRMEventSocket) {
        self.engine = engine
        self.events = events
        self.monitor = TrunkMonitor(configuration: engine.configuration, desired: engine.desired)
    }

    public var verdict: TrunkVerdict { monitor.verdict }

    /// Applies the desired state (manual keying) and verifies it. The trunk is `starting` (no
    /// signalling) until this returns `trunkUp`.
    public func start(now: ContinuousClock.Instant = .now) -> [TrunkMonitor.Action] {
        var output: [TrunkMonitor.Action] = []
        if engine.configuration.keying == .manual {
            do throws(TrunkProtectionError) {
                let report = try engine.apply(removeRetiring: true)
                output.append(.log("apply: \(report)"))
            } catch {
                output.append(contentsOf: run(monitor.handle(.repairFailed(error.description, now: now)), now: now))
            }
        }
        output.append(contentsOf: run(monitor.start(), now: now))
        return output
    }

    /// Waits for kernel events up to `timeoutMilliseconds`, then lets the monitor react to them
    /// and to the clock.
    public func poll(timeoutMilliseconds: Int32, now: () -> ContinuousClock.Instant = { .now }) -> [TrunkMonitor.Action] {
        var output: [TrunkMonitor.Action] = []
        let received: [XFRMEvent]
        do throws(XFRMError) {
            received = try events.receive(timeoutMilliseconds: timeoutMilliseconds)
        } catch {
            output.append(.log("XFRM event socket: \(error)"))
            received = [.eventsLost]
        }
        for event in received {
            output.append(contentsOf: run(monitor.handle(.event(event, now: now())), now: now()))
        }
        output.append(contentsOf: run(monitor.handle(.tick(now: now())), now: now()))
        return output
    }

    /// Re-reads the kernel now (after an operator's change, or before `show`).
    public func verifyNow(now: ContinuousClock.Instant = .now) -> [TrunkMonitor.Action] {
        run([.verify], now: now)
    }

    /// Carries out `verify` and `repair`, feeding the results back, until only outward actions
    /// remain.
    private func run(_ actions: [TrunkMonitor.Action], now: ContinuousClock.Instant) -> [TrunkMonitor.Action] {
        var pending = actions
        var output: [TrunkMonitor.Action] = []
        var rounds = 0
        while !pending.isEmpty && rounds < 8 {
            rounds += 1
            var next: [TrunkMonitor.Action] = []
            for action in pending {
                switch action {
                case .verify:
                    do throws(TrunkProtectionError) {
                        var (assessment, snapshot) = try engine.assess()
                        if !assessment.missingStates.isEmpty, let adopted = adoptChangedKeyFile() {
                            output.append(.log(adopted))
                            (assessment, snapshot) = try engine.assess()
                        }
                        lastAssessment = assessment
                        lastSnapshot = snapshot
                        next.append(contentsOf: monitor.handle(.assessed(assessment, now: now)))
                    } catch {
                        output.append(.log("read back failed: \(error)"))
                    }
                case .repair:
                    do throws(TrunkProtectionError) {
                        let report = try engine.apply()
                        output.append(.log("repair: \(report)"))
                        next.append(.verify)
                    } catch {
                        next.append(contentsOf: monitor.handle(.repairFailed(error.description, now: now)))
                    }
                default:
                    output.append(action)
                }
            }
            pending = next
        }
        return output
    }

    /// When the edge's SAs are missing and the key file now holds other (valid) keys — an
    /// `outpost ipsec rekey` switched generations — the new keys become the desired state, so the
    /// edge does not restore the old SAs. Returns a log line when it adopted them.
    private func adoptChangedKeyFile() -> String? {
        let configuration = engine.configuration
        guard configuration.keying == .manual else { return nil }
        guard let onDisk = try? TrunkKeyFile.load(path: configuration.keyFile, configuration: configuration), onDisk != engine.keys else { return nil }
        do throws(TrunkProtectionError) {
            try engine.replaceKeys(onDisk)
        } catch {
            return nil
        }
        return "\(configuration.keyFile) holds new keys (SPIs \(onDisk.entries.map { "0x" + TrunkKeyFile.hex($0.spi) }.joined(separator: ", "))): adopted"
    }

    /// Removes what the edge installed (shutdown). Returns what was removed.
    public func shutdown() throws(TrunkProtectionError) -> TrunkProtectionEngine.RemovalReport {
        try engine.removeOwned()
    }
}
