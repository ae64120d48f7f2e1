import Edge
import ServiceLifecycle

/// Drops expired bindings from memory and the journal every few seconds.
struct RegistrarService: Service {
    let registrar: Registrar
    let interval: Duration

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                await registrar.purgeExpired()
            }
        }
    }
}
