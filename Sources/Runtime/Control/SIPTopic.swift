import SIPTransport

/// `outpost show sip`: the SIP stack's counters: what the transports received, sent, refused and
/// dropped, the open connections, and the transactions in both directions.
struct SIPTopic: ControlTopic {
    let name = "sip"
    let transport: SIPTransportStatistics
    let connections: SIPConnectionTable
    let stack: SIPStack
    let phones: PhoneFlows
    var liveTLS: LiveTLSConnections? = nil

    private struct View: Encodable {
        let connections: [String: Int]
        let activeTransactions: Int
        let transport: [String: Int]
        let transactions: [String: Int]
        let requestsToPhones: [String: Int]
        /// Phones' TLS connections open, and closed because their certificate stopped verifying.
        let tlsConnections: [String: Int]
    }

    func render(json: Bool) async -> String {
        let open = Dictionary(uniqueKeysWithValues: SIPTransportKind.allCases.map { ($0.rawValue.lowercased(), connections.count(of: $0)) })
        let transportCounters = Dictionary(uniqueKeysWithValues: transport.snapshot.map { ($0.key.rawValue, $0.value) })
        let transactionCounters = stack.statistics.snapshot()
        if json {
            return ControlJSON.encode(
                View(
                    connections: open, activeTransactions: stack.activeTransactions, transport: transportCounters,
                    transactions: transactionCounters, requestsToPhones: phones.snapshot(),
                    tlsConnections: liveTLS?.snapshot ?? [:]))
        }
        var table = TextTable(headers: ["COUNTER", "VALUE"])
        for (key, value) in transportCounters.sorted(by: { $0.key < $1.key }) { table.append(["transport." + key, "\(value)"]) }
        for (key, value) in transactionCounters.sorted(by: { $0.key < $1.key }) { table.append(["transactions." + key, "\(value)"]) }
        for (key, value) in phones.snapshot().sorted(by: { $0.key < $1.key }) { table.append(["to_phones." + key, "\(value)"]) }
        for (key, value) in (liveTLS?.snapshot ?? [:]).sorted(by: { $0.key < $1.key }) { table.append(["tls." + key, "\(value)"]) }
        let sockets = open.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        return "open sockets: \(sockets); transactions running: \(stack.activeTransactions)\n" + table.render()
    }
}
