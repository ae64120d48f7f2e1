import ArgumentParser
import Runtime

#if canImport(Glibc)
import Glibc
#endif

// `outpost show registrations|trunk|devices|tftp|sip|reachability|calls|media`: each asks the running edge over the control
// socket of its state directory; the edge renders, this only prints.

let showTopicCommands: [any ParsableCommand.Type] = [ShowStatus.self, ShowRegistrations.self, ShowTrunk.self, ShowDevices.self, ShowTFTP.self, ShowSIP.self, ShowReachability.self, ShowCalls.self, ShowMedia.self]

struct ShowTopicOptions: ParsableArguments {
    @Flag(help: "JSON instead of a table.")
    var json = false

    @Option(name: [.customLong("state-directory"), .customLong("state-dir")], help: "The edge's state directory (default: the configuration's).")
    var stateDirectory: String?

    @Option(help: "The edge's YAML configuration, to find its state directory (default: the embedded configuration).")
    var config: String?

    func show(_ topic: String, argument: String? = nil) throws {
        let directory = try stateDirectory ?? ConfigurationOptions.parse(config.map { ["--config", $0] } ?? []).load().stateDirectory
        do {
            print(try ControlClient(stateDirectory: directory).show(topic, argument: argument, json: json), terminator: "")
        } catch {
            let text = Array("outpost: \(error)\n".utf8)
            _ = text.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
            throw ExitCode.failure
        }
    }
}

struct ShowRegistrations: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "registrations", abstract: "Bindings the edge holds, per line.")
    @OptionGroup var options: ShowTopicOptions
    func run() throws { try options.show("registrations") }
}

struct ShowStatus: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "The whole edge on one screen: mode, trunk, IPsec, registrations, calls, certificate expiry, TFTP, PSTN, recent alarms.")
    @OptionGroup var options: ShowTopicOptions
    func run() throws { try options.show("status") }
}

struct ShowCalls: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "calls", abstract: "Calls up now: legs, duration, security, codec, suites, live counters.")
    @OptionGroup var options: ShowTopicOptions
    func run() throws { try options.show("calls") }
}

struct ShowMedia: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "media", abstract: "The media relay: its port pool, each relayed call's legs with their counters, recent events.")
    @OptionGroup var options: ShowTopicOptions
    func run() throws { try options.show("media") }
}

struct ShowTrunk: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "trunk", abstract: "The trunk to the call manager and the survivability mode.")
    @OptionGroup var options: ShowTopicOptions
    func run() throws { try options.show("trunk") }
}

struct ShowDevices: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "devices", abstract: "The device inventory (never its passwords).")
    @OptionGroup var options: ShowTopicOptions
    func run() throws { try options.show("devices") }
}

struct ShowTFTP: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tftp", abstract: "The TFTP server's transfers and refusals.")
    @OptionGroup var options: ShowTopicOptions
    func run() throws { try options.show("tftp") }
}

struct ShowSIP: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sip", abstract: "The SIP stack's counters: transports, connections, and transactions both ways.")
    @OptionGroup var options: ShowTopicOptions
    func run() throws { try options.show("sip") }
}

struct ShowReachability: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reachability", abstract: "Send an OPTIONS to every binding of a line over the flow a call would use, and show the answers.")
    @Argument(help: "The line (address of record), e.g. 2001.")
    var line: String
    @OptionGroup var options: ShowTopicOptions
    func run() throws {
        guard line.allSatisfy({ $0.isLetter || $0.isNumber || "+-_.".contains($0) }) else {
            throw ValidationError("'\(line)' is not a line number")
        }
        try options.show("reachability", argument: line)
    }
}
