import Edge
import ServiceLifecycle

/// Drops expired bindings from memory and the journal every few seconds; closes the journal
/// (after its last group commit) at shutdown.
struct RegistrarService: Service {
    let registrar: Registrar
    let interval: Duration
    let journal: SQLiteBindingJournal

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                await registrar.purgeExpired()
            }
        }
        journal.close()
    }
}
