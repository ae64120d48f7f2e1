import ArgumentParser
import OutpostBench

struct TFTPBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tftp",
        abstract: "Download throughput of a 16 MiB file over loopback (blksize 1428, windowsize 16 and 1), next to tftpd-hpa.")

    @Option(help: "Interleaved rounds per figure; the median is printed.")
    var rounds: Int = 3

    func run() async throws {
        for line in try await TFTPBenchmark(rounds: rounds).run() { print(line) }
    }
}
