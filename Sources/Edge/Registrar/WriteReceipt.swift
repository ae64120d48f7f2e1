import Synchronization

/// The journal's promise for one write: it completes once, possibly before anyone asks.
final class WriteReceipt: Sendable {
    private let state = Mutex<(outcome: Result<Void, any Error>?, callback: (@Sendable (Result<Void, any Error>) -> Void)?)>((nil, nil))

    func complete(_ outcome: Result<Void, any Error>) {
        let callback = state.withLock { state -> (@Sendable (Result<Void, any Error>) -> Void)? in
            guard state.outcome == nil else { return nil }
            state.outcome = outcome
            defer { state.callback = nil }
            return state.callback
        }
        callback?(outcome)
    }

    /// Runs `callback` once the write completed (at once if it already has); one callback only.
    func whenComplete(_ callback: @escaping @Sendable (Result<Void, any Error>) -> Void) {
        let ready = state.withLock { state -> Result<Void, any Error>? in
            if let outcome = state.outcome { return outcome }
            state.callback = callback
            return nil
        }
        if let ready { callback(ready) }
    }

    func wait() async -> Result<Void, any Error> {
        await withCheckedContinuation { continuation in whenComplete { continuation.resume(returning: $0) } }
    }
}
