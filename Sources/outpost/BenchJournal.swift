import ArgumentParser
import OutpostBench

/// `bench journal` and the hidden child process of the journal's crash test.
let journalBenchCommands: [any ParsableCommand.Type] = [JournalBench.self, JournalCrashWriterCommand.self]

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

/// Writes bindings and prints each acknowledgement; the crash test kills it with SIGKILL.
struct JournalCrashWriterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "journal-writer", shouldDisplay: false)

    @Option var stateDir: String
    @Option var writes: Int = 1_000_000
    @Option var lines: Int = 50

    func run() throws {
        try JournalCrashWriter.run(stateDirectory: stateDir, writes: writes, lines: lines)
    }
}
