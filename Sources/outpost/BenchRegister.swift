import ArgumentParser
import Runtime

struct RegisterBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "register",
        abstract: "REGISTER/s persisted over one TLS connection and over UDP, p50/p99, memory per binding; Kamailio as baseline.")

    @Option(help: "Distinct users (addresses of record); at least the window.")
    var users: Int = 10_000

    @Option(help: "REGISTERs per transport.")
    var requests: Int = 100_000

    @Option(help: "REGISTERs outstanding at once.")
    var window: Int = 200

    func run() async throws {
        let benchmark = RegisterBenchmark(users: users, requests: requests, window: window)
        for line in try await benchmark.run() { print(line) }
    }
}
