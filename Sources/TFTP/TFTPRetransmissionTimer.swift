import NIOCore

/// The single retransmission timer of a transfer, restarted with every block sent. Scheduling and
/// cancelling an event-loop task per block would cost more than sending the block; instead
/// restarting only moves the deadline, and the one scheduled wake-up, when it comes early,
/// sleeps again until the deadline. Used on its channel's event loop only.
final class TFTPRetransmissionTimer {
    private let eventLoop: any EventLoop
    private var onExpiry: (() -> Void)?
    private var deadline: NIODeadline?
    private var wakeUp: Scheduled<Void>?

    init(eventLoop: any EventLoop, onExpiry: @escaping () -> Void) {
        self.eventLoop = eventLoop
        self.onExpiry = onExpiry
    }

    func start(after duration: TimeAmount) {
        let when = NIODeadline.now() + duration
        deadline = when
        if wakeUp == nil { schedule(at: when) }
    }

    func stop() {
        deadline = nil
    }

    /// Stops for good and lets go of the expiry closure (which usually holds the handler).
    func invalidate() {
        deadline = nil
        onExpiry = nil
        wakeUp?.cancel()
        wakeUp = nil
    }

    private func schedule(at when: NIODeadline) {
        wakeUp = eventLoop.assumeIsolated().scheduleTask(deadline: when) { [self] in
            wakeUp = nil
            guard let deadline else { return }
            guard deadline <= .now() else { return schedule(at: deadline) }
            self.deadline = nil
            onExpiry?()
        }
    }
}
