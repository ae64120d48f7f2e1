import ArgumentParser
import OutpostBench

struct JournalBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal", abstract: "Bindings persisted per second with group commit next to one transaction per write.")

    @Option(help: "Seconds to run each measurement.")
    var seconds: Double = 3

    @Option(help: "Threads issuing writes.")
    var producers: Int = 2

    @Option(help: "Directory for the temporary databases (use the state directory's file system).")
    var directory: String = "/var/tmp"

    func run() throws {
        let benchmark = JournalBenchmark(secondsPerMeasurement: seconds, producers: producers, directory: directory)
        for line in try benchmark.run() { print(line) }
    }
}
