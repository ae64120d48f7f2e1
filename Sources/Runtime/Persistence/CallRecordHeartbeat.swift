import Logging
import ServiceLifecycle

/// Tells the call records every few seconds that the edge is alive, so that after a crash the
/// calls it died with are closed at about the moment it died, not when it came back.
struct CallRecordHeartbeat: Service {
    let records: SQLiteCallRecords
    let interval: Duration
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do { try await records.markAlive() } catch {
                    logger.error("call records: cannot note the edge alive", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: interval)
            }
        }
    }
}
