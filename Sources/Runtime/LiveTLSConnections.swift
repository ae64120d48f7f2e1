import Logging
import NIOCore
import SIPTransport
import Synchronization
import TLS

/// The phones' TLS connections that completed their handshake and are still open, each with the
/// certificate chain it verified and the listener mode whose context verified it, so that a
/// trust change (a revocation, a root removed, a certificate gone past its end) is applied to
/// connections already open and not only to the next ones.
public final class LiveTLSConnections: Sendable {
    struct Entry: Sendable {
        let channel: any Channel
        let peer: TLSPeerCertificate
        let mode: OutpostConfiguration.TLS.ClientCertificates
    }

    /// A connection closed because its peer certificate no longer verifies.
    struct Distrusted: Sendable {
        let connection: SIPConnectionID?
        let peer: TLSPeerCertificate
        let remote: String
        let reason: String
    }

    private struct State {
        var entries: [ObjectIdentifier: Entry] = [:]
        var closed = 0
        var closedByReason: [String: Int] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    func add(_ channel: any Channel, peer: TLSPeerCertificate, mode: OutpostConfiguration.TLS.ClientCertificates) {
        state.withLock { $0.entries[ObjectIdentifier(channel)] = Entry(channel: channel, peer: peer, mode: mode) }
    }

    func remove(_ channel: any Channel) {
        _ = state.withLock { $0.entries.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    public var count: Int { state.withLock { $0.entries.count } }
    /// Connections closed because their certificate stopped verifying, in all and by reason.
    public var closed: Int { state.withLock { $0.closed } }
    public var closedByReason: [String: Int] { state.withLock { $0.closedByReason } }

    /// Checks every live connection's chain against the current contexts and closes those that
    /// no longer verify (close_notify, then the socket). Returns what was closed.
    func revalidate(with contexts: TLSContextStore, connections: SIPConnectionTable) -> [Distrusted] {
        let entries = state.withLock { Array($0.entries.values) }
        var distrusted: [Distrusted] = []
        for entry in entries {
            // A listener mode with no context now: nothing can verify the peer any more.
            let reason = contexts.context(for: entry.mode).map { $0.reverify(entry.peer) } ?? "no TLS context for the listener"
            guard let reason else { continue }
            let id = connections.id(of: entry.channel)
            let remote = entry.channel.remoteAddress.map { $0.logText(.tls) } ?? "tls:?"
            distrusted.append(Distrusted(connection: id, peer: entry.peer, remote: remote, reason: reason))
            remove(entry.channel)
            entry.channel.close(promise: nil)
        }
        if !distrusted.isEmpty {
            state.withLock { state in
                state.closed += distrusted.count
                for item in distrusted { state.closedByReason[item.reason, default: 0] += 1 }
            }
        }
        return distrusted
    }

    /// The view of `outpost show sip`.
    var snapshot: [String: Int] {
        state.withLock { state in
            var view = ["open": state.entries.count, "closed_distrusted": state.closed]
            for (reason, count) in state.closedByReason { view["closed_distrusted." + String(reason.map { $0 == " " ? "_" : $0 })] = count }
            return view
        }
    }
}
