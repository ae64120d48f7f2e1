import ArgumentParser
import OutpostBench

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure a hot path next to its baseline, both in this run (use a release build).",
        subcommands: [SIPParseBench.self, TLSBench.self, TFTPBench.self, RegisterBench.self, JournalBench.self, MediaBench.self, CallsBench.self])
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

struct TLSBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tls",
        abstract: "Mutual-TLS handshakes per second through the NIO handler next to in-memory OpenSSL handshakes; memory per idle TLS connection.")

    @Option(help: "Seconds to run each handshake measurement.")
    var seconds: Double = 2

    @Option(help: "Idle TLS connections to hold for the memory figure.")
    var connections: Int = 1000

    func run() async throws {
        let benchmark = TLSBenchmark(
            secondsPerMeasurement: seconds, idleConnections: connections, childExecutable: try BenchChildProgram.besideThisExecutable())
        for line in try await benchmark.run() { print(line) }
    }
}
