import Edge
import Logging
import NIOCore
import SIP
import SIPTransport
import Synchronization
import TLS

/// The call managers as the registrar sees them. A REGISTER goes to the first one whose last
/// keep-alive was answered (or the first configured when none was yet); when that one does not
/// answer it goes to the next, in order, before the relay counts as failed, so one call manager
/// down does not send the branch into survivable mode while another answers.
final class TrunkUpstream: RegistrationUpstream, Sendable {
    let connections: [TrunkConnection]
    let relayTimeout: Duration
    private let answering = Mutex<[Bool]>([])
    private let logger: Logger

    init(
        trunk: OutpostConfiguration.Trunk, stack: SIPStack, group: any EventLoopGroup, tlsContext: TLSContext?,
        protection: (any TrunkProtection)?, connections: SIPConnectionTable, statistics: SIPTransportStatistics,
        relayTimeout: Duration, logger: Logger
    ) {
        self.connections = trunk.callManagers.map {
            TrunkConnection(
                callManager: $0, stack: stack, group: group, tlsContext: tlsContext, protection: protection, connections: connections,
                statistics: statistics, logger: logger)
        }
        self.relayTimeout = relayTimeout
        self.logger = logger
        answering.withLock { $0 = Array(repeating: true, count: trunk.callManagers.count) }
    }

    func relay(_ request: SIPRequest) async throws -> SIPResponse {
        var failures: [String] = []
        let sequence = order()
        for index in sequence {
            do {
                let response = try await connections[index].send(request, timeout: relayTimeout, addPath: true)
                answering.withLock { $0[index] = true }
                return response
            } catch {
                answering.withLock { $0[index] = false }
                failures.append("\(connections[index].remote): \(error)")
                if index != sequence.last {
                    logger.warning(
                        "REGISTER not answered, trying the next call manager",
                        metadata: ["call_manager": "\(connections[index].remote)", "error": "\(error)"])
                }
            }
        }
        throw TrunkFailure.transport(failures.joined(separator: "; "))
    }

    /// A connection to a call manager for a call: the answering ones first, as for a REGISTER.
    func callSource() async throws -> SIPSource {
        var failures: [String] = []
        for index in order() {
            do { return try await connections[index].protectedSource() } catch {
                failures.append("\(connections[index].remote): \(error)")
            }
        }
        throw TrunkFailure.transport(failures.joined(separator: "; "))
    }

    func isCallManager(_ flow: BindingFlow) -> Bool {
        connections.contains { $0.isPeer(of: flow) }
    }

    /// The open connection of the call manager a flow belongs to.
    func openSource(for flow: BindingFlow) -> SIPSource? {
        connections.first { $0.isPeer(of: flow) }?.openSource
    }

    /// Answering call managers first, each group in configured order.
    private func order() -> [Int] {
        let answering = self.answering.withLock { $0 }
        let indices = Array(answering.indices)
        return indices.filter { answering[$0] } + indices.filter { !answering[$0] }
    }

    func recordProbe(of index: Int, answered: Bool) {
        answering.withLock { $0[index] = answered }
    }

    func close() async {
        for connection in connections { await connection.close() }
    }
}
