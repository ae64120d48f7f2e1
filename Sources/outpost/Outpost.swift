import ArgumentParser
import Logging
import Runtime

@main
struct Outpost: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outpost",
        abstract: "Secure voice gateway and SRST edge for branch offices.",
        version: OutpostVersion.string,
        subcommands: [Run.self, CheckConfig.self, PKI.self, IPsec.self, Show.self, CDR.self, Bench.self])
}

struct ConfigurationOptions: ParsableArguments {
    @Option(name: .long, help: "YAML configuration file (default: the embedded configuration).")
    var config: String?

    @Option(name: .long, help: "State directory (overrides state_directory of the configuration).")
    var stateDir: String?

    func load() throws -> OutpostConfiguration {
        var configuration: OutpostConfiguration
        if let config {
            let text: String
            do {
                text = try String(contentsOfFileAt: config)
            } catch {
                throw ValidationError("\(config): cannot read: \(error)")
            }
            do {
                configuration = try ConfigurationLoader.load(yaml: text, file: config)
            } catch {
                throw ValidationError("\(error)")
            }
        } else {
            configuration = try ConfigurationLoader.load(yaml: DefaultConfiguration.yaml, file: "(embedded default)")
        }
        if let stateDir { configuration.stateDirectory = stateDir }
        return configuration
    }
}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the edge until SIGTERM or SIGINT; SIGHUP re-reads its TLS files.")

    @OptionGroup var options: ConfigurationOptions

    func run() async throws {
        let configuration = try options.load()
        let level = configuration.logLevel
        // Warnings and worse also go to the recent alarms `outpost show status` lists.
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return MultiplexLogHandler([handler, RecentAlarms.shared.handler(label: label)])
        }
        let logger = Logger(label: "outpost")
        do {
            try await OutpostRuntime(configuration: configuration).run(logger: logger, notifier: .fromProcessEnvironment())
        } catch {
            logger.critical("Outpost cannot run: \(error)")
            throw ExitCode(1)
        }
    }
}

struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config", abstract: "Check a configuration file and print what it means.")

    @OptionGroup var options: ConfigurationOptions

    func run() throws {
        for line in try options.load().summary { print(line) }
    }
}

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show the edge's state.", subcommands: [ShowIPsec.self] + showTopicCommands)
}
