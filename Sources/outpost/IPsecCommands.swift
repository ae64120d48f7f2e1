import ArgumentParser
import Runtime
import TrunkIPsec

#if canImport(Glibc)
import Glibc
#endif

// `outpost ipsec …` and `outpost show ipsec`: argument parsing only; the work is done by the
// TrunkIPsec target (TrunkIPsecTool). Until the runtime's control socket exists, these act
// directly on the kernel of the current network namespace, from --config (the edge's YAML, read
// by the same loader as `outpost run`, and its `trunk_ipsec:` section) and the key file.

struct IPsecOptions: ParsableArguments {
    @Option(name: .long, help: "The edge's configuration (checked as `outpost run` checks it; its trunk_ipsec section is used).")
    var config: String

    @Option(name: .long, help: "Key file (default: key_file of the configuration). Must be mode 0600.")
    var keys: String?

    func load() throws -> (TrunkProtectionConfiguration, TrunkKeys?) {
        do {
            let configuration = try TrunkIPsecTool.loadConfiguration(path: config)
            return (configuration, try TrunkIPsecTool.loadKeys(configuration: configuration, path: keys))
        } catch {
            printError("\(error)")
            throw ExitCode.failure
        }
    }
}

/// Prints an outcome and exits with its status.
private func finish(_ outcome: TrunkIPsecTool.Outcome) throws {
    print(outcome.text)
    if outcome.status != 0 { throw ExitCode(outcome.status) }
}

private func failing(_ body: () throws -> TrunkIPsecTool.Outcome) throws {
    do {
        try finish(try body())
    } catch let error as TrunkIPsecTool.Failure {
        printError(error.description)
        throw ExitCode.failure
    }
}

private func printError(_ text: String) {
    let bytes = Array((text + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

struct IPsec: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ipsec",
        abstract: "Protect the SIP trunk with IPsec (ESP transport through Linux XFRM).",
        subcommands: [IPsecApply.self, IPsecVerify.self, IPsecRekey.self, IPsecRemove.self, IPsecKeygen.self, IPsecPeerConfig.self])
}

struct IPsecApply: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Install the trunk's policies and SAs that are missing, then read them back (exit 1 unless protected).")

    @OptionGroup var options: IPsecOptions

    func run() throws {
        let (configuration, keys) = try options.load()
        try failing { try TrunkIPsecTool.apply(configuration: configuration, keys: keys) }
    }
}

struct IPsecVerify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Read the kernel's policies and SAs back and say whether the trunk is protected (exit 1 if not).")

    @OptionGroup var options: IPsecOptions

    func run() throws {
        let (configuration, keys) = try options.load()
        try failing { try TrunkIPsecTool.verify(configuration: configuration, keys: keys) }
    }
}

struct IPsecRekey: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rekey",
        abstract: "Switch to new SPIs and keys make-before-break, without losing trunk traffic.",
        discussion: """
            Installs the new inbound SAs, then the new outbound ones, reads them back, removes the old \
            outbound SAs, waits the grace period for the call manager to switch, and removes the old \
            inbound SAs. Give the call manager its new inbound SAs before running this. On success \
            the new key file replaces the configured one unless --keep-key-file is given.
            """)

    @OptionGroup var options: IPsecOptions

    @Option(name: .customLong("new-keys"), help: "Key file with the new SPIs and keys (mode 0600).")
    var newKeys: String

    @Option(help: "Seconds the old inbound SAs stay after the switch (default: rekey_grace of the configuration).")
    var grace: Int?

    @Flag(help: "Leave the configured key file alone.")
    var keepKeyFile = false

    func run() throws {
        let (configuration, keys) = try options.load()
        if let grace, grace < 0 { throw ValidationError("--grace must not be negative") }
        try failing {
            try TrunkIPsecTool.rekey(
                configuration: configuration, currentKeys: keys, newKeysPath: newKeys, graceSeconds: grace,
                keepKeyFile: keepKeyFile, progress: { print($0) })
        }
    }
}

struct IPsecRemove: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Remove the SAs and policies the edge installed (its reqid), and nothing else.")

    @OptionGroup var options: IPsecOptions

    func run() throws {
        let (configuration, keys) = try options.load()
        try failing { try TrunkIPsecTool.remove(configuration: configuration, keys: keys) }
    }
}

struct IPsecKeygen: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Write a new key file (mode 0600) with random keys and SPIs not installed now.")

    @Option(name: .long, help: "The edge's configuration (its trunk_ipsec section is used).")
    var config: String

    @Option(name: .long, help: "The file to create (never overwritten).")
    var output: String

    func run() throws {
        let configuration: TrunkProtectionConfiguration
        do {
            configuration = try TrunkIPsecTool.loadConfiguration(path: config)
        } catch {
            printError("\(error)")
            throw ExitCode.failure
        }
        try failing { try TrunkIPsecTool.keygen(configuration: configuration, output: output, avoidingSPIs: TrunkIPsecTool.installedSPIs()) }
    }
}

struct IPsecPeerConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peer-config",
        abstract: "Print the ip xfrm commands that configure a Linux call manager to match (they contain the keys).")

    @OptionGroup var options: IPsecOptions

    @Option(help: "reqid for the peer's SAs and policies.")
    var reqid: UInt32 = 1

    func run() throws {
        let (configuration, keys) = try options.load()
        guard let keys else { throw ValidationError("keying is external: the key manager configures the peer") }
        print(TrunkIPsecTool.peerConfiguration(configuration: configuration, keys: keys, reqid: reqid))
    }
}

/// `outpost show ipsec` (a subcommand of `show`).
struct ShowIPsec: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ipsec",
        abstract: "The trunk's IPsec policies and SAs, with each SA's packet, byte and error counters.")

    @OptionGroup var options: IPsecOptions

    func run() throws {
        let (configuration, keys) = try options.load()
        try failing { try TrunkIPsecTool.show(configuration: configuration, keys: keys) }
    }
}
