import NIOCore
import Synchronization

/// Admission control: how many transfers run overall and per client address. A slot is taken
/// before the file is looked up (a proxy lookup can take seconds) and given back exactly once.
final class TFTPTransferSlots: Sendable {
    enum Refusal: Error {
        case overall(limit: Int)
        case perClient(limit: Int)
        /// The client's port already has a request in progress: a retransmitted RRQ.
        case duplicate
    }

    private let maximum: Int
    private let maximumPerClient: Int
    private let counts = Mutex<(total: Int, perClient: [String: Int], requesters: Set<SocketAddress>)>((0, [:], []))

    init(maximum: Int, maximumPerClient: Int) {
        self.maximum = maximum
        self.maximumPerClient = maximumPerClient
    }

    func reserve(for client: SocketAddress) throws(Refusal) {
        let host = client.hostKey
        let refusal: Refusal? = counts.withLock { counts in
            guard !counts.requesters.contains(client) else { return .duplicate }
            guard counts.total < maximum else { return .overall(limit: maximum) }
            let mine = counts.perClient[host, default: 0]
            guard mine < maximumPerClient else { return .perClient(limit: maximumPerClient) }
            counts.total += 1
            counts.perClient[host] = mine + 1
            counts.requesters.insert(client)
            return nil
        }
        if let refusal { throw refusal }
    }

    func release(for client: SocketAddress) {
        let host = client.hostKey
        counts.withLock { counts in
            counts.total -= 1
            counts.requesters.remove(client)
            let mine = counts.perClient[host, default: 1] - 1
            counts.perClient[host] = mine > 0 ? mine : nil
        }
    }
}

extension SocketAddress {
    /// The host part alone, the unit per-client limits count by.
    var hostKey: String { ipAddress ?? description }

    /// `address:port` for logs and reports.
    var endpoint: String {
        guard let ip = ipAddress, let port else { return description }
        return self.protocol == .inet6 ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }
}
