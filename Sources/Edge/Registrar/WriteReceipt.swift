import Synchronization

/// The journal's promise for one write: it completes once, possibly before anyone waits.
final class WriteReceipt: Sendable {
    private let state = Mutex<(outcome: Result<Void, any Error>?, waiter: CheckedContinuation<Result<Void, any Error>, Never>?)>((nil, nil))

    func complete(_ outcome: Result<Void, any Error>) {
        let waiter = state.withLock { state -> CheckedContinuation<Result<Void, any Error>, Never>? in
            guard state.outcome == nil else { return nil }
            state.outcome = outcome
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: outcome)
    }

    func wait() async -> Result<Void, any Error> {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Result<Void, any Error>? in
                if let outcome = state.outcome { return outcome }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
