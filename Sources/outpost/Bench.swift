import ArgumentParser
import Runtime

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure a hot path next to its baseline, both in this run (use a release build).",
        subcommands: [SIPParseBench.self])
}

struct SIPParseBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sip-parse", abstract: "Parse+serialize throughput of a REGISTER and an INVITE with SDP.")

    @Option(help: "Seconds to run each measurement.")
    var seconds: Double = 2

    func run() throws {
        for line in SIPParseBenchmark(secondsPerMeasurement: seconds).run() { print(line) }
    }
}
