import Foundation
import Runtime

extension ControlClient {
    /// `show` from an async test without blocking a thread of the cooperative pool, on which an
    /// edge in this process renders its topics: with two cores, two blocked test threads would
    /// leave it none, and the edge would not answer in time.
    func showOffThePool(_ topic: String, json: Bool = false) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try self.show(topic, json: json) }) }
        }
    }
}
