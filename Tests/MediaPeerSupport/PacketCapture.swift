import Foundation
import Glibc

/// One UDP datagram from a capture, with what tshark's RTP dissector made of it (when the port
/// was decoded as RTP) and the raw UDP payload for our own checks.
public struct CapturedDatagram: Sendable, Hashable {
    public let sourcePort: UInt16
    public let destinationPort: UInt16
    /// The UDP payload as captured.
    public let payload: [UInt8]
    /// tshark's `rtp.version`, `rtp.p_type`, `rtp.seq`, `rtp.ssrc`, `rtp.payload`; `nil` when
    /// tshark did not dissect the datagram as RTP.
    public let rtpVersion: Int?
    public let rtpPayloadType: Int?
    public let rtpSequence: Int?
    public let rtpSSRC: UInt32?
    public let rtpPayload: [UInt8]?
}

/// A tshark capture on the loopback interface, bounded by tshark's own `-a duration:` as well as
/// by `stop()` (SIGINT, then SIGKILL) and release.
public final class PacketCapture {
    public static let tshark = "/usr/bin/tshark"
    public static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: tshark) }

    public let file: URL
    public let ports: [UInt16]
    private let directory: URL
    private let process: ChildProcess
    private let stderrFile: URL
    private let stdoutFile: URL
    /// The port of the start-up probes; its datagrams are left out of `datagrams(decodingAsRTP:)`.
    private let probe: UDPSocket
    private var stopped = false

    /// Starts capturing UDP to or from any of `ports` on `lo` and returns once tshark reports the
    /// capture running. `maximumDuration` is tshark's own stop, should the test never call `stop()`.
    public init(ports: [UInt16], maximumDuration: Int = 20, startupTimeout: Duration = .seconds(10)) throws {
        precondition(!ports.isEmpty)
        self.ports = ports
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "outpost-capture-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        file = directory.appendingPathComponent("capture.pcapng")
        stderrFile = directory.appendingPathComponent("tshark.stderr")
        guard FileManager.default.createFile(atPath: stderrFile.path, contents: nil) else { throw RtpengineError.process("cannot create \(stderrFile.path)") }

        // "Capturing on" is printed before dumpcap's filter sees packets (the first two or so of a
        // stream went missing that way). So the capture is only taken to run once it has seen a
        // probe: a datagram on a port of its own, sent until tshark's packet summary (`-P`, flushed
        // per packet with `-l`) shows one.
        probe = try UDPSocket(port: FreePorts.port())
        stdoutFile = directory.appendingPathComponent("tshark.stdout")
        let filter = (ports + [probe.port]).map { "udp port \($0)" }.joined(separator: " or ")
        process = try ChildProcess(
            executable: Self.tshark,
            arguments: ["-n", "-l", "-P", "-i", "lo", "-f", filter, "-w", file.path, "-a", "duration:\(maximumDuration)"],
            outputFile: stdoutFile.path, errorFile: stderrFile.path)

        guard sendProbes(Self.startProbe, timeout: startupTimeout) else {
            let text = stderr
            stop()
            throw RtpengineError.process("tshark did not start capturing: \(text)")
        }
    }

    /// Probe payloads; their lengths tell them apart in tshark's summary lines (`Len=21`, `Len=19`).
    static let startProbe = Array("outpost capture open.".utf8)
    static let endProbe = Array("outpost capture end".utf8)

    /// Sends `payload` to the probe port every 50 ms until tshark's summary shows it; `false` on
    /// timeout or if tshark exited.
    private func sendProbes(_ payload: [UInt8], timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + timeout
        let marker = "\(probe.port) → \(probe.port)"
        while true {
            let summary = (try? String(contentsOf: stdoutFile, encoding: .utf8)) ?? ""
            if summary.split(separator: "\n").contains(where: { $0.contains(marker) && $0.hasSuffix("Len=\(payload.count)") }) {
                return true
            }
            guard process.isRunning, ContinuousClock.now < deadline, (try? probe.send(payload, port: probe.port)) != nil else {
                return false
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    deinit {
        stop()
        if ProcessInfo.processInfo.environment["OUTPOST_KEEP_CAPTURE"] == nil {
            try? FileManager.default.removeItem(at: directory)
        }
    }

    /// tshark's standard error so far.
    public var stderr: String { (try? String(contentsOf: stderrFile, encoding: .utf8)) ?? "" }

    /// Ends the capture and waits for tshark to finish the file: SIGINT, SIGKILL after 3 s.
    public func stop() {
        guard !stopped else { return }
        stopped = true
        // SIGINT alone loses what dumpcap has not written yet (a quarter of a one-second stream, in
        // a test): first wait until a last probe went through, and with it everything before it.
        _ = sendProbes(Self.endProbe, timeout: .seconds(5))
        probe.close()
        // tshark on SIGINT stops dumpcap, which flushes and closes the file.
        process.terminate(with: SIGINT, grace: .seconds(3))
    }

    /// Reads the capture back (stopping it first), decoding UDP on `rtpPorts` as RTP.
    public func datagrams(decodingAsRTP rtpPorts: [UInt16]) throws -> [CapturedDatagram] {
        stop()
        var arguments = ["-n", "-r", file.path]
        for port in rtpPorts { arguments += ["-d", "udp.port==\(port),rtp"] }
        arguments += ["-Y", "udp and not udp.port==\(probe.port)", "-T", "fields", "-E", "separator=|", "-E", "occurrence=f"]
        for field in ["udp.srcport", "udp.dstport", "udp.payload", "rtp.version", "rtp.p_type", "rtp.seq", "rtp.ssrc", "rtp.payload"] {
            arguments += ["-e", field]
        }
        let outputFile = directory.appendingPathComponent("fields.txt")
        let reader = try ChildProcess(
            executable: Self.tshark, arguments: arguments, outputFile: outputFile.path,
            errorFile: directory.appendingPathComponent("tshark-read.stderr").path)
        if !reader.wait(timeout: .seconds(15)) { reader.terminate(with: SIGKILL) }
        guard reader.exitCode == 0 else {
            let text = (try? String(contentsOf: outputFile, encoding: .utf8)) ?? ""
            throw RtpengineError.process("tshark -r exited \(reader.exitCode ?? -1): \(text)")
        }
        let text = try String(contentsOf: outputFile, encoding: .utf8)
        return text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 8, let source = UInt16(fields[0]), let destination = UInt16(fields[1]) else { return nil }
            return CapturedDatagram(
                sourcePort: source, destinationPort: destination, payload: Self.hex(fields[2]) ?? [],
                rtpVersion: Int(fields[3]), rtpPayloadType: Int(fields[4]), rtpSequence: Int(fields[5]),
                rtpSSRC: Self.integer(fields[6]), rtpPayload: Self.hex(fields[7]))
        }
    }

    /// tshark prints bytes as hex, with or without colons.
    static func hex(_ text: String) -> [UInt8]? {
        let digits = text.filter { $0 != ":" }
        guard !digits.isEmpty, digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        var index = digits.startIndex
        while index < digits.endIndex {
            let next = digits.index(index, offsetBy: 2)
            guard let byte = UInt8(digits[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
    }

    /// `0x1234abcd` or decimal.
    static func integer(_ field: String) -> UInt32? {
        let text = field.split(separator: " ").first.map(String.init) ?? ""
        if text.hasPrefix("0x") { return UInt32(text.dropFirst(2), radix: 16) }
        return UInt32(text)
    }
}
