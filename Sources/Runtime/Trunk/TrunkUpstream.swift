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
    let relayTimeout: Duration
    private let state: Mutex<(connections: [TrunkConnection], answering: [Bool])>
    private let makeConnection: @Sendable (OutpostConfiguration.Trunk.CallManager) -> TrunkConnection
    /// Whether a TLS call manager can be added by a reload (the client context exists only when one was configured at start).
    let canReachTLS: Bool
    private let logger: Logger

    init(
        trunk: OutpostConfiguration.Trunk, stack: SIPStack, group: any EventLoopGroup, tlsContext: TLSContext?,
        protection: (any TrunkProtection)?, connections: SIPConnectionTable, statistics: SIPTransportStatistics,
        relayTimeout: Duration, logger: Logger
    ) {
        let makeConnection: @Sendable (OutpostConfiguration.Trunk.CallManager) -> TrunkConnection = { callManager in
            TrunkConnection(
                callManager: callManager, stack: stack, group: group, tlsContext: tlsContext, protection: protection, connections: connections,
                statistics: statistics, logger: logger)
        }
        self.makeConnection = makeConnection
        self.canReachTLS = tlsContext != nil
        self.state = Mutex((trunk.callManagers.map(makeConnection), Array(repeating: true, count: trunk.callManagers.count)))
        self.relayTimeout = relayTimeout
        self.logger = logger
    }

    /// The call managers' connections, in configured order.
    var connections: [TrunkConnection] { state.withLock { $0.connections } }

    /// A reload changed the call managers: those still listed keep their connection (and the
    /// calls over it), new ones get one, and the connections of those no longer listed are
    /// returned for closing.
    func replaceCallManagers(_ callManagers: [OutpostConfiguration.Trunk.CallManager]) -> [TrunkConnection] {
        state.withLock { state in
            var kept: [TrunkConnection] = []
            var answering: [Bool] = []
            for callManager in callManagers {
                if let index = state.connections.firstIndex(where: { $0.callManager == callManager }) {
                    kept.append(state.connections[index])
                    answering.append(state.answering[index])
                } else {
                    kept.append(makeConnection(callManager))
                    answering.append(true)
                }
            }
            let removed = state.connections.filter { old in !kept.contains { $0 === old } }
            state = (kept, answering)
            return removed
        }
    }

    func relay(_ request: SIPRequest) async throws -> SIPResponse {
        var failures: [String] = []
        let sequence = order()
        for connection in sequence {
            do {
                let response = try await connection.send(request, timeout: relayTimeout, addPath: true)
                recordProbe(of: connection, answered: true)
                return response
            } catch {
                recordProbe(of: connection, answered: false)
                failures.append("\(connection.remote): \(error)")
                if connection !== sequence.last {
                    logger.warning(
                        "REGISTER not answered, trying the next call manager", metadata: ["call_manager": "\(connection.remote)", "error": "\(error)"])
                }
            }
        }
        throw TrunkFailure.transport(failures.joined(separator: "; "))
    }

    /// A connection to a call manager for a call: the answering ones first, as for a REGISTER.
    func callSource() async throws -> SIPSource {
        var failures: [String] = []
        for connection in order() {
            do { return try await connection.protectedSource() } catch {
                failures.append("\(connection.remote): \(error)")
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
    private func order() -> [TrunkConnection] {
        let (connections, answering) = state.withLock { ($0.connections, $0.answering) }
        let indices = Array(connections.indices)
        return (indices.filter { answering[$0] } + indices.filter { !answering[$0] }).map { connections[$0] }
    }

    func recordProbe(of connection: TrunkConnection, answered: Bool) {
        state.withLock { state in
            if let index = state.connections.firstIndex(where: { $0 === connection }) { state.answering[index] = answered }
        }
    }

    func close() async {
        for connection in connections { await connection.close() }
    }
}
