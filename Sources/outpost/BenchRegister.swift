import ArgumentParser
import Runtime

/// The baseline half of `outpost bench register` on its own: the REGISTER load generator against
/// a Kamailio it starts and kills, to check the generator and read the figures to beat.
struct RegisterKamailioBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "register-kamailio", abstract: "REGISTER/s and latency of Kamailio under the register load generator.",
        shouldDisplay: false)

    @Option(help: "Distinct users (AORs); at least the window.")
    var users: Int = 10_000

    @Option(help: "REGISTERs per transport and round.")
    var requests: Int = 50_000

    @Option(help: "REGISTERs outstanding at once.")
    var window: Int = 200

    @Option(help: "Kamailio's UDP receiver processes.")
    var children: Int = 2

    @Option(help: "Kamailio's TCP/TLS worker processes.")
    var tcpChildren: Int = 1

    func run() async throws {
        let baseline = KamailioBaseline(users: users, requests: requests, window: window, children: children, tcpChildren: tcpChildren)
        for line in KamailioBaseline.report(try await baseline.measure(), baseline: baseline) { print(line) }
    }
}
