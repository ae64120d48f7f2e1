import Edge
import Logging
import NIOCore
import SIP
import Synchronization
import TLS

/// The call managers as the registrar sees them: REGISTERs go to the first one whose last
/// keep-alive was answered (or the first configured when none was yet).
final class TrunkUpstream: RegistrationUpstream, Sendable {
    let transports: [TrunkTransport]
    let relayTimeout: Duration
    private let answering = Mutex<[Bool]>([])

    init(
        trunk: OutpostConfiguration.Trunk, group: any EventLoopGroup, tlsContext: TLSContext?, protection: (any TrunkProtection)?,
        relayTimeout: Duration, logger: Logger
    ) {
        self.transports = trunk.callManagers.map {
            TrunkTransport(callManager: $0, group: group, tlsContext: tlsContext, protection: protection, logger: logger)
        }
        self.relayTimeout = relayTimeout
        answering.withLock { $0 = Array(repeating: true, count: trunk.callManagers.count) }
    }

    func relay(_ request: SIPRequest) async throws -> SIPResponse {
        let preferred = answering.withLock { $0.firstIndex(of: true) } ?? 0
        return try await transports[preferred].send(request, timeout: relayTimeout, addPath: true)
    }

    func recordProbe(of index: Int, answered: Bool) {
        answering.withLock { $0[index] = answered }
    }

    func close() async {
        for transport in transports { await transport.close() }
    }
}
