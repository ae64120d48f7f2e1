import ArgumentParser
import OutpostBench

struct RegisterBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "register",
        abstract: "REGISTER/s persisted over one TLS connection and over UDP, p50/p99, memory per binding; Kamailio (in memory and write-through SQLite) as baseline.")

    @Option(help: "Distinct users (addresses of record); at least the window.")
    var users: Int = 10_000

    @Option(help: "REGISTERs per run at most (a run also stops sending after --run-seconds).")
    var requests: Int = 100_000

    @Option(help: "Seconds after which a run sends no more REGISTERs.")
    var runSeconds: Double = 8

    @Option(help: "Interleaved rounds per registrar and transport; the median is printed.")
    var rounds: Int = 3

    @Option(help: "REGISTERs outstanding at once.")
    var window: Int = 200

    @Option(help: "Comma-separated: tls, udp.")
    var transports: String = "tls,udp"

    @Flag(help: "Skip the Kamailio baseline (for profiling the edge alone).")
    var noBaseline = false

    func run() async throws {
        let chosen = try transports.split(separator: ",").map { name in
            guard let transport = RegisterLoadTransport(rawValue: String(name)) else { throw ValidationError("unknown transport '\(name)'") }
            return transport
        }
        let benchmark = RegisterBenchmark(users: users, requests: requests, window: window, transports: chosen, withBaseline: !noBaseline,
            runLimit: .milliseconds(Int64(runSeconds * 1000)), rounds: rounds)
        for line in try await benchmark.run() { print(line) }
    }
}
