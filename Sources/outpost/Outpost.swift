import ArgumentParser
import Logging
import PKI
import Runtime

#if canImport(Glibc)
import Glibc
#endif

@main
struct Outpost: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outpost",
        abstract: "Secure voice gateway and SRST edge for branch offices.",
        version: OutpostVersion.string,
        subcommands: [Run.self, Reload.self, CheckConfig.self, Admin.self, PKI.self, IPsec.self, Show.self, CDR.self, Bench.self])
}

struct ConfigurationOptions: ParsableArguments {
    @Option(name: .long, help: "YAML configuration file (default: the embedded configuration).")
    var config: String?

    @Option(name: .long, help: "State directory (overrides state_directory of the configuration).")
    var stateDir: String?

    func load() throws -> OutpostConfiguration {
        var configuration: OutpostConfiguration
        if let config {
            configuration = try Self.load(file: config)
        } else {
            configuration = try ConfigurationLoader.load(yaml: DefaultConfiguration.yaml, file: "(embedded default)")
        }
        if let stateDir { configuration.stateDirectory = stateDir }
        return configuration
    }

    static func load(file: String) throws -> OutpostConfiguration {
        let text: String
        do {
            text = try String(contentsOfFileAt: file)
        } catch {
            throw ValidationError("\(file): cannot read: \(error)")
        }
        do {
            return try ConfigurationLoader.load(yaml: text, file: file)
        } catch {
            throw ValidationError("\(error)")
        }
    }

    /// What a reload re-reads: the file, with the same state directory override; nil for the
    /// embedded configuration, which cannot change while the edge runs.
    var source: (@Sendable () throws -> OutpostConfiguration)? {
        guard let config else { return nil }
        let stateDir = self.stateDir
        return {
            var configuration = try Self.load(file: config)
            if let stateDir { configuration.stateDirectory = stateDir }
            return configuration
        }
    }
}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the edge until SIGTERM or SIGINT; SIGHUP re-reads its configuration file and TLS files.")

    @OptionGroup var options: ConfigurationOptions

    func run() async throws {
        let configuration = try options.load()
        // The level is a switch a reload may turn; warnings and worse also go to the recent
        // alarms `outpost show status` lists.
        LogLevelSwitch.shared.current = configuration.logLevel
        LoggingSystem.bootstrap { label in
            MultiplexLogHandler([
                LogLevelSwitch.shared.handler(StreamLogHandler.standardError(label: label)), RecentAlarms.shared.handler(label: label),
            ])
        }
        let logger = Logger(label: "outpost")
        do {
            try await OutpostRuntime(configuration: configuration, configurationSource: options.source, logLevel: .shared)
                .run(logger: logger, notifier: .fromProcessEnvironment())
        } catch {
            logger.critical("Outpost cannot run: \(error)")
            throw ExitCode(1)
        }
    }
}

struct Reload: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make the running edge re-read its configuration file and TLS files now, and say what changed (as SIGHUP does).")

    @Option(name: [.customLong("state-directory"), .customLong("state-dir")], help: "The edge's state directory (default: the configuration's).")
    var stateDirectory: String?

    @Option(help: "The edge's YAML configuration, to find its state directory (default: the embedded configuration).")
    var config: String?

    func run() throws {
        let directory: String
        do {
            directory = try stateDirectory ?? ConfigurationOptions.parse(config.map { ["--config", $0] } ?? []).load().stateDirectory
        } catch {
            // The edge would refuse the same file; it is not asked.
            print("reload refused, the running configuration stays: \(error)")
            throw ExitCode.failure
        }
        let answer: String
        do {
            answer = try ControlClient(stateDirectory: directory, timeoutSeconds: 30).show("reload", argument: nil, json: false)
        } catch {
            let text = Array("outpost: \(error)\n".utf8)
            _ = text.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
            throw ExitCode.failure
        }
        print(answer, terminator: "")
        if answer.hasPrefix("reload refused") { throw ExitCode.failure }
    }
}

struct Admin: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The admin listener's status page login.", subcommands: [HashPassword.self])

    struct HashPassword: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "hash-password",
            abstract: "Read a password from standard input (one line) and print the admin.password_hash that accepts it.")

        func run() throws {
            guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                throw ValidationError("give the password on standard input, e.g. read -rs p; printf '%s\\n' \"$p\" | outpost admin hash-password")
            }
            print(try PasswordHash.make(password: line))
        }
    }
}

struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config", abstract: "Check a configuration file and print what it means.")

    @OptionGroup var options: ConfigurationOptions

    func run() throws {
        let configuration: OutpostConfiguration
        do {
            configuration = try options.load()
        } catch let error as ValidationError {
            // Every problem, one a line, and how many: no usage text, the command was right.
            let count = error.message.split(separator: "\n").count
            let text = Array("\(error.message)\n\(count) problem\(count == 1 ? "" : "s") found\n".utf8)
            _ = text.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
            throw ExitCode.failure
        }
        for line in configuration.summary { print(line) }
    }
}

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show the edge's state.", subcommands: [ShowIPsec.self] + showTopicCommands)
}
