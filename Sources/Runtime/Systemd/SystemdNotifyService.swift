import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import UnixSignals

/// Opens once every listener it waits for has reported that it listens.
public final class ReadinessGate: Sendable {
    private let pending: Mutex<Set<String>>
    private let stream: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    public init(waitingFor parts: Set<String>) {
        pending = Mutex(parts)
        (stream, continuation) = AsyncStream<Void>.makeStream()
        if parts.isEmpty { continuation.finish() }
    }

    /// `part` listens; the last one opens the gate. Unknown or repeated parts change nothing.
    public func arrive(_ part: String) {
        let open = pending.withLock { pending in
            pending.remove(part) != nil && pending.isEmpty
        }
        if open { continuation.finish() }
    }

    /// Returns when the gate opens, or when the task is cancelled (then `false`).
    func wait() async -> Bool {
        for await _ in stream {}
        return !Task.isCancelled && pending.withLock { $0.isEmpty }
    }
}

/// Requests to reload, from SIGHUP or `OutpostRuntime.reload()`; requests arriving during a
/// reload collapse into one more, so a storm of signals costs at most two reloads.
final class ReloadRequests: Sendable {
    let stream: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    init() {
        (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    func request() { continuation.yield() }
    func finish() { continuation.finish() }
}

/// The edge's side of systemd's `Type=notify`: `READY=1` once the gate opens (every listener
/// up), `STATUS=` lines, `WATCHDOG=1` at half of `$WATCHDOG_USEC` while the event loops answer,
/// `RELOADING=1` with `MONOTONIC_USEC=` then `READY=1` around each reload (SIGHUP), and
/// `STOPPING=1` when graceful shutdown begins. It must be the last service of the group, so that
/// it is the first to hear of the shutdown. The reload itself (`reload`) belongs to the runtime;
/// this service only brackets it, because systemd must see the bracket around it.
final class SystemdNotifyService: Service {
    private let notifier: SystemdNotifier
    private let gate: ReadinessGate
    private let requests: ReloadRequests
    private let loops: [any EventLoop]
    private let status: @Sendable () -> String
    private let reload: @Sendable () async -> Void
    private let logger: Logger
    /// How often STATUS is refreshed when there is no watchdog to piggyback on.
    private let statusInterval: Duration

    init(
        notifier: SystemdNotifier, gate: ReadinessGate, requests: ReloadRequests, group: any EventLoopGroup,
        statusInterval: Duration = .seconds(15), status: @escaping @Sendable () -> String,
        reload: @escaping @Sendable () async -> Void, logger: Logger
    ) {
        self.notifier = notifier
        self.gate = gate
        self.requests = requests
        self.loops = Array(group.makeIterator())
        self.statusInterval = statusInterval
        self.status = status
        self.reload = reload
        self.logger = logger
    }

    func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        let requests = self.requests
        await cancelWhenGracefulShutdown {
            guard await self.gate.wait() else { return }
            let lastStatus = LastStatus(self.status())
            self.send(["READY=1", "STATUS=" + lastStatus.value.withLock { $0 }])
            self.logger.notice("every listener is up", metadata: ["systemd": "\(self.notifier.isEnabled ? "notified" : "not in use")"])
            let ticks = self.startTicks(lastStatus: lastStatus)
            defer { ticks?.cancel() }
            await withDiscardingTaskGroup { group in
                group.addTask {
                    for await _ in hangups { requests.request() }
                }
                for await _ in requests.stream {
                    self.send(SystemdNotifier.reloadingLines())
                    self.logger.notice("reloading on request")
                    await self.reload()
                    let now = self.status()
                    lastStatus.value.withLock { $0 = now }
                    self.send(["READY=1", "STATUS=" + now])
                }
                group.cancelAll()
            }
        }
        requests.finish()
        send(["STOPPING=1", "STATUS=stopping"])
    }

    /// One repeated task on an event loop: each tick asks every loop to run a no-op and, once all
    /// have, pings the watchdog and refreshes STATUS. A wedged loop answers nothing, so systemd
    /// stops hearing from the edge and restarts it.
    private func startTicks(lastStatus: LastStatus) -> RepeatedTask? {
        guard notifier.isEnabled, let home = loops.first else { return nil }
        let watchdog = notifier.watchdogTimeout
        let interval = watchdog.map { $0 / 2 } ?? statusInterval
        let nanoseconds = interval.components.seconds * 1_000_000_000 + interval.components.attoseconds / 1_000_000_000
        let amount = TimeAmount.nanoseconds(max(nanoseconds, 1_000_000))
        let loops = self.loops
        return home.scheduleRepeatedTask(initialDelay: amount, delay: amount) { [self] _ in
            let probes = loops.map { $0.submit {} }
            EventLoopFuture.andAllSucceed(probes, on: home).whenSuccess { [self] in
                var lines: [String] = []
                if watchdog != nil { lines.append("WATCHDOG=1") }
                let now = status()
                let changed = lastStatus.value.withLock { last in
                    defer { last = now }
                    return last != now
                }
                if changed { lines.append("STATUS=" + now) }
                if !lines.isEmpty { send(lines) }
            }
        }
    }

    private func send(_ lines: [String]) {
        if case .failure(let error) = notifier.notify(lines) {
            logger.warning("cannot notify systemd", metadata: ["error": "\(error)"])
        }
    }
}

/// The STATUS= systemd last heard, so an unchanged one is not sent again.
private final class LastStatus: Sendable {
    let value: Mutex<String>
    init(_ status: String) { value = Mutex(status) }
}
