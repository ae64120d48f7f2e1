import Foundation
import SRTP

#if canImport(Glibc)
import Glibc
#endif

/// `media-baseline` (Tests/Tools/media-baseline, C): the independent baselines of `outpost bench
/// media` and its load generator, built into the same products directory as `outpost`.
public enum MediaBaselineProgram {
    public static let name = "media-baseline"

    public static func besideThisExecutable() throws -> String {
        try BenchChildProgram.besideThisExecutable(named: name)
    }
}

/// A child process driven line by line over its standard input and output.
final class LineProcess {
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    let command: String

    init(_ executable: String, _ arguments: [String]) throws {
        command = ([URL(fileURLWithPath: executable).lastPathComponent] + arguments).joined(separator: " ")
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = input
        process.standardOutput = output
        try process.run()
    }

    func send(_ line: String) {
        input.fileHandleForWriting.write(Data((line + "\n").utf8))
    }

    /// The next line, or an error naming the command when it ended without one.
    func readLine() throws -> String {
        guard let line = output.fileHandleForReading.readLine() else {
            process.waitUntilExit()
            throw BenchmarkError(reason: "`\(command)` ended (status \(process.terminationStatus)) without answering")
        }
        return line
    }

    /// The line's fields after `keyword`, which must start it.
    func expect(_ keyword: String) throws -> [String] {
        let line = try readLine()
        let fields = line.split(separator: " ").map(String.init)
        guard fields.first == keyword else { throw BenchmarkError(reason: "`\(command)` said '\(line)', expected '\(keyword) …'") }
        return Array(fields.dropFirst())
    }

    func finish() {
        try? input.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    deinit { finish() }
}

/// What `media-baseline` reports as `key value` pairs, by key.
func fields(_ values: [String]) -> [String: Double] {
    var result: [String: Double] = [:]
    var index = 0
    while index + 1 < values.count {
        result[values[index]] = Double(values[index + 1])
        index += 2
    }
    return result
}

/// The load generator of `outpost bench media`, a `media-baseline load` process pinned to the other
/// core: it sends each call's leg 0 packets protected with the key the bench gave the relay as that
/// leg's peer key, and counts (and on a sample decrypts with leg 1's announced outbound key) what
/// the relay sends out of leg 1.
final class MediaLoadGenerator {
    struct Call {
        /// The relay's RTP port of leg 0, where the generator sends.
        var port: Int
        /// The key the generator protects with (leg 0's peer key); nil for plain RTP.
        var sendKey: SRTPMasterKey?
        /// The key the relay announced for leg 1 (its `outboundKey`); nil for plain RTP.
        var receiveKey: SRTPMasterKey?
    }

    struct Totals {
        var sent: Int
        var received: Int
        var verified: Int
        var failed: Int
        var loss: Double { sent > 0 ? max(0, Double(sent - received) / Double(sent)) : 0 }
    }

    private let process: LineProcess
    /// The generator's sending socket (leg 0's peer) and receiving socket (leg 1's peer) on 127.0.0.1.
    let sendPort: Int
    let receivePort: Int

    init(executable: String, cpu: Int, window: Int) throws {
        process = try LineProcess(executable, ["load", String(cpu), String(window)])
        let ports = try process.expect("ports").compactMap { Int($0) }
        guard ports.count == 2 else { throw BenchmarkError(reason: "the load generator gave no ports") }
        sendPort = ports[0]
        receivePort = ports[1]
    }

    /// Starts sending as fast as the window allows; returns once the first packets left.
    func start(_ calls: [Call]) throws {
        describe(calls)
        process.send("run")
        _ = try process.expect("started")
    }

    func stop() throws -> Totals {
        process.send("stop")
        return try totals()
    }

    /// Sends `packets` to each call, waits for them (at most two seconds) and reports.
    func burst(_ calls: [Call], packets: Int) throws -> Totals {
        describe(calls)
        process.send("burst \(packets)")
        _ = try process.expect("started")
        return try totals()
    }

    private func describe(_ calls: [Call]) {
        for call in calls {
            process.send("call \(call.port) \(Self.describe(call.sendKey)) \(Self.describe(call.receiveKey))")
        }
    }

    private func totals() throws -> Totals {
        let values = fields(try process.expect("done"))
        defer { process.finish() }
        return Totals(
            sent: Int(values["sent"] ?? 0), received: Int(values["received"] ?? 0), verified: Int(values["verified"] ?? 0),
            failed: Int(values["failed"] ?? 0))
    }

    private static func describe(_ key: SRTPMasterKey?) -> String {
        guard let key else { return "plain -" }
        return "\(suiteName(key.suite)) \(key.bytes.map { String(format: "%02x", $0) }.joined())"
    }

    static func suiteName(_ suite: SRTPSuite) -> String {
        switch suite {
        case .aeadAES128GCM: "aes-gcm-128"
        default: "aes-cm-80"
        }
    }
}
