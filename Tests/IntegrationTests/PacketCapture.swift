import Foundation
import Testing

/// tshark beside a test, printing chosen fields of every packet its capture filter passes, one
/// packet per line, until the test stops it.
final class PacketCapture {
    private let tool: BackgroundTool

    /// Returns once tshark captures.
    init(launcher: [String] = [], interface: String, filter: String, fields: [String], timeout: Duration = .seconds(120)) async throws {
        let tshark = try #require(ExternalTool.path("tshark"), "tshark is installed by appliance/install-deps")
        tool = try BackgroundTool(
            launcher + [tshark, "-i", interface, "-l", "-n", "-f", filter, "-T", "fields"] + fields.flatMap { ["-e", $0] }, timeout: timeout)
        let deadline = ContinuousClock.now + .seconds(15)
        while !tool.output.contains("Capturing on") {
            guard ContinuousClock.now < deadline, tool.process.isRunning else {
                throw LabError(reason: "tshark did not start capturing: \(tool.output.suffix(2000))")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    deinit { stop() }

    func stop() { tool.stop() }

    /// The fields of each packet so far, in the order asked for.
    var packets: [[Substring]] {
        tool.output.split(whereSeparator: \.isNewline).compactMap { line in
            let fields = line.split(whereSeparator: { $0 == "\t" })
            return fields.first.map { _ in fields }
        }.filter { !$0[0].hasPrefix("Capturing") && !$0[0].contains(" ") }
    }

    /// RTP and SRTP streams by `source>destination` port with their UDP lengths: 20 ms of G.711
    /// is 180 bytes as RTP and 190 as SRTP with its 80-bit tag. Streams of at least `minimum`
    /// packets (RTCP and stray packets stay out).
    func mediaStreams(minimum: Int = 100) -> [String: Set<Int>] {
        let rows = packets.compactMap { fields -> (String, Int)? in
            guard fields.count == 3, let length = Int(fields[2]) else { return nil }
            return ("\(fields[0])>\(fields[1])", length)
        }
        return Dictionary(grouping: rows, by: \.0).filter { $0.value.count >= minimum }.mapValues { Set($0.map(\.1)) }
    }

    static let mediaFields = ["udp.srcport", "udp.dstport", "udp.length"]

    /// A media port range of its own for an edge under test, so that a capture of its streams
    /// ("udp portrange …") sees no other test's.
    static func mediaPortWindow() -> ClosedRange<Int> {
        let base = 16_384 + 200 * Int.random(in: 0..<80)
        return base...(base + 199)
    }
}
