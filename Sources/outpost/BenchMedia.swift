import ArgumentParser
import OutpostBench

struct MediaBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "media",
        abstract: "SRTP and RTP packets relayed per CPU second of one relay thread next to a bare libsrtp loop and a bare UDP forwarding loop; memory per call.")

    @Option(help: "Seconds to run each measurement.")
    var seconds: Double = 3

    @Option(help: "Concurrent two-leg calls carrying the load.")
    var calls: Int = 100

    @Option(help: "Two-leg SRTP calls held for the memory figure.")
    var memoryCalls: Int = 1_000

    @Option(help: "Interleaved rounds; the median is printed.")
    var rounds: Int = 3

    func run() async throws {
        guard calls > 0, memoryCalls > 0, seconds > 0 else { throw ValidationError("calls, memory calls and seconds must be positive") }
        let benchmark = MediaBenchmark(
            secondsPerMeasurement: seconds, calls: calls, memoryCalls: memoryCalls, rounds: rounds,
            baselineExecutable: try MediaBaselineProgram.besideThisExecutable())
        for line in try await benchmark.run() { print(line) }
    }
}
