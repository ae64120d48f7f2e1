import ArgumentParser
import Logging
import OutpostBench

struct CallsBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calls",
        abstract: "Calls/s set up and torn down with media anchored, and concurrent SRTP calls at 50 packets/s each way with zero loss; Kamailio + rtpengine as baseline.")

    @Option(help: "Calls in flight at once for the rate (as many caller and callee phones).")
    var window: Int = 50

    @Option(help: "Seconds each rate run places calls.")
    var runSeconds: Double = 5

    @Option(help: "Interleaved rate rounds per contender; the median is printed.")
    var rounds: Int = 3

    @Option(help: "Comma-separated concurrent SRTP call counts to try, in order, until one loses a packet (at most 2000).")
    var steps: String = "100,200,400,800,1600"

    @Option(help: "Seconds of the zero-loss measurement window at each step (after a 1 s warm-up).")
    var mediaSeconds: Double = 3

    @Flag(help: "Only the call rate.")
    var rateOnly = false

    @Flag(help: "Only the concurrent SRTP calls.")
    var concurrentOnly = false

    @Flag(help: "Skip the Kamailio + rtpengine baseline (for profiling the edge alone).")
    var noBaseline = false

    func run() async throws {
        let counts = try steps.split(separator: ",").map { text in
            guard let count = Int(text), count > 0, count <= CallBenchmark.maximumHeldCalls else {
                throw ValidationError("a step must be a number of calls from 1 to \(CallBenchmark.maximumHeldCalls), not '\(text)'")
            }
            return count
        }
        guard window > 0, runSeconds > 0, mediaSeconds > 0, !(rateOnly && concurrentOnly) else {
            throw ValidationError("window and seconds must be positive, and --rate-only excludes --concurrent-only")
        }
        // The edges in this process log as the bench configures them, errors only, and to standard error.
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .error
            return handler
        }
        let benchmark = CallBenchmark(
            window: window, runLimit: .milliseconds(Int64(runSeconds * 1000)), rounds: rounds, steps: counts,
            mediaWindow: .milliseconds(Int64(mediaSeconds * 1000)), withBaseline: !noBaseline, rate: !concurrentOnly, concurrent: !rateOnly)
        for line in try await benchmark.run() { print(line) }
    }
}
