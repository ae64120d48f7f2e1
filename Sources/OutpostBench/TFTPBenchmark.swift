import Foundation
import Logging
import NIOCore
import NIOPosix
import Runtime
import TFTP
import TFTPProtocol

#if canImport(Glibc)
import Glibc
#endif

/// `outpost bench tftp`: download throughput of a 16 MiB file over loopback from this server and
/// from tftpd-hpa serving the same file from the same directory, with the same client (ours),
/// at blksize 1428 and windowsize 16 and 1.
public struct TFTPBenchmark {
    public let fileSize: Int
    public let rounds: Int

    public init(fileSize: Int = 16 << 20, rounds: Int = 3) {
        self.fileSize = fileSize
        self.rounds = max(rounds, 1)
    }

    public func run() async throws -> [String] {
        let build = BenchmarkFormat.build
        let directory = NSTemporaryDirectory() + "outpost-bench-tftp-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // tftpd-hpa drops to user nobody and chroots: the file must be world-readable.
        chmod(directory, 0o755)
        // Incompressible but cheap to make: xorshift, not a system call per byte.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let content = (0..<fileSize).map { _ -> UInt8 in
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return UInt8(truncatingIfNeeded: state)
        }
        let name = "bench.bin"
        try Data(content).write(to: URL(fileURLWithPath: directory + "/" + name))
        chmod(directory + "/" + name, 0o644)

        let serverLoop = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let clientLoop = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var lines = ["tftp: \(fileSize >> 20) MiB over loopback, blksize 1428, median of \(rounds) interleaved rounds (alternating which server goes first), one client (ours), \(build)"]
        do {
            let ours = try await startOurServer(directory: directory, group: serverLoop)
            let theirs = try TFTPDaemon(directory: directory)
            defer { theirs.stop() }
            let client = TFTPClient(makeChannel: TFTPService.clientChannelFactory(group: clientLoop, host: "127.0.0.1"))
            for windowSize in [16, 1] {
                let options = TFTPClient.Options(blockSize: 1428, windowSize: windowSize, timeout: .seconds(1), retries: 5)
                var baseline: [Double] = []
                var measured: [Double] = []
                // Alternating which goes first keeps any drift of the machine out of the comparison.
                for round in 0..<rounds {
                    if round % 2 == 0 {
                        baseline.append(try await throughput(client, theirs.address, name, options, expected: content))
                        measured.append(try await throughput(client, ours.address, name, options, expected: content))
                    } else {
                        measured.append(try await throughput(client, ours.address, name, options, expected: content))
                        baseline.append(try await throughput(client, theirs.address, name, options, expected: content))
                    }
                }
                let base = baseline.sorted()[rounds / 2]
                let mine = measured.sorted()[rounds / 2]
                let ratio = mine / base * 100
                lines.append("  windowsize \(windowSize) requested:")
                lines.append("    baseline: tftpd-hpa (in.tftpd -L -s; grants no windowsize, so lock-step)  \(Self.format(base)) MiB/s")
                lines.append("    outpost TFTP server (directory source, NIO)                               \(Self.format(mine)) MiB/s  \(Int(ratio.rounded()))% of baseline, goal ≥ 100%: \(ratio >= 100 ? "met" : "NOT MET")")
            }
            try await ours.channel.close()
        } catch {
            try? await serverLoop.shutdownGracefully()
            try? await clientLoop.shutdownGracefully()
            throw error
        }
        try await serverLoop.shutdownGracefully()
        try await clientLoop.shutdownGracefully()
        return lines
    }

    private func throughput(
        _ client: TFTPClient, _ server: SocketAddress, _ name: String, _ options: TFTPClient.Options, expected: [UInt8]
    ) async throws -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        let bytes = try await client.download(name, from: server, options: options)
        let elapsed = start.duration(to: clock.now)
        guard bytes == expected else { throw TFTPBenchmarkError(reason: "\(server) sent \(bytes.count) bytes that differ from the file") }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return Double(bytes.count) / 1_048_576 / seconds
    }

    private func startOurServer(directory: String, group: any EventLoopGroup) async throws -> (channel: any Channel, address: SocketAddress) {
        var logger = Logger(label: "bench-tftp")
        logger.logLevel = .error
        let server = TFTPServer(
            settings: TFTPServerSettings(), source: try TFTPDirectorySource(root: directory), statistics: TFTPStatistics(),
            logger: logger, makeTransferChannel: TFTPService.transferChannelFactory(group: group, host: "127.0.0.1"))
        let channel = try await DatagramBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(server.makeListenerHandler()) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        guard let address = channel.localAddress else { throw TFTPBenchmarkError(reason: "our server has no address") }
        return (channel, address)
    }

    private static func format(_ value: Double) -> String { String(format: "%7.1f", value) }
}

/// tftpd-hpa (`in.tftpd -L -s`) in the foreground on a free high loopback port: the bench's
/// baseline and the tests' stand-in call manager. The directory must be world-readable, as
/// in.tftpd started by root drops to user nobody.
public final class TFTPDaemon: Sendable {
    public let port: Int
    public var address: SocketAddress { try! SocketAddress(ipAddress: "127.0.0.1", port: port) }
    private let process: Process

    public init(directory: String) throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/in.tftpd") else {
            throw TFTPBenchmarkError(reason: "/usr/sbin/in.tftpd is missing: install tftpd-hpa (appliance/install-deps)")
        }
        var lastFailure = "no attempt"
        for _ in 0..<10 {
            let port = Int.random(in: 40_000...60_000)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/in.tftpd")
            process.arguments = ["-L", "-s", "-a", "127.0.0.1:\(port)", directory]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            // It binds before anything else; a port taken makes it exit at once.
            Thread.sleep(forTimeInterval: 0.2)
            if process.isRunning {
                self.process = process
                self.port = port
                return
            }
            lastFailure = "in.tftpd exited with status \(process.terminationStatus) on port \(port)"
        }
        throw TFTPBenchmarkError(reason: lastFailure)
    }

    public var isRunning: Bool { process.isRunning }

    public func stop() {
        guard process.isRunning else { return }
        // SIGKILL: a child may inherit a blocked SIGTERM.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { stop() }
}

struct TFTPBenchmarkError: Error, CustomStringConvertible {
    let reason: String
    var description: String { "bench tftp: \(reason)" }
}
