import ArgumentParser
import OutpostBench

/// The child processes of benchmarks and crash tests, kept out of the product binary: a parent
/// starts this program, drives it, and kills it. Not meant to be run by hand.
@main
struct BenchChild: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: BenchChildProgram.name,
        abstract: "Child processes of `outpost bench` and of the journal's crash test.",
        subcommands: [TLSIdleClientsCommand.self, JournalCrashWriterCommand.self])
}

/// The client process of `outpost bench tls`'s memory figure.
struct TLSIdleClientsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tls-idle-clients", abstract: "Open idle mutual-TLS connections, say \"ready\", hold them until killed.")

    @Option var port: Int
    @Option var count: Int
    @Option var certificate: String
    @Option var key: String
    @Option var ca: String

    func run() async throws {
        try await TLSIdleClients.run(port: port, count: count, certificate: certificate, key: key, ca: ca)
    }
}

/// Writes bindings and prints each acknowledgement; the journal's crash test kills it with SIGKILL.
struct JournalCrashWriterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal-writer", abstract: "Write bindings to a journal, printing each acknowledgement, until killed.")

    @Option var stateDir: String
    @Option var writes: Int = 1_000_000
    @Option var lines: Int = 50

    func run() throws {
        try JournalCrashWriter.run(stateDirectory: stateDir, writes: writes, lines: lines)
    }
}
