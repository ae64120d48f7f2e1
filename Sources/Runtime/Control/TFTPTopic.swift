import TFTP

/// `outpost show tftp`: the provisioning server's counters, recent transfers and errors.
struct TFTPTopic: ControlTopic {
    let name = "tftp"
    let statistics: TFTPStatistics

    func render(json: Bool) async -> String { statistics.report(json: json) }
}
