import SIP

/// `outpost bench sip-parse`: SIP parse and serialize throughput on one core, next to a baseline
/// that only scans the same bytes for line ends (the least any parser must do).
public struct SIPParseBenchmark {
    public let secondsPerMeasurement: Double

    public init(secondsPerMeasurement: Double) {
        self.secondsPerMeasurement = secondsPerMeasurement
    }

    public func run() -> [String] {
        let meter = Throughput(seconds: secondsPerMeasurement)
        let invite = BenchmarkMessages.invite
        let register = BenchmarkMessages.register
        let baseline = meter.measure { Self.countLineEnds(invite) }
        let inviteParse = meter.measure { (try? SIPMessageParser.parse(invite))?.headers.count ?? -1 }
        let inviteRoundTrip = meter.measure { (try? SIPMessageParser.parse(invite))?.serialized.count ?? -1 }
        let registerRoundTrip = meter.measure { (try? SIPMessageParser.parse(register))?.serialized.count ?? -1 }
        let goal = 250_000.0
        func row(_ name: String, _ value: Double, _ note: String = "") -> String {
            BenchmarkFormat.padded(name, 44) + BenchmarkFormat.padded(BenchmarkFormat.rate(value) + " msg/s", 20) + note
        }
        let build = BenchmarkFormat.build
        return [
            "sip-parse: one core, \(secondsPerMeasurement) s per figure, \(build)",
            "  INVITE with SDP \(invite.count) bytes, REGISTER \(register.count) bytes",
            row("  baseline: CRLF scan of the INVITE bytes", baseline.perSecond),
            row("  INVITE+SDP parse", inviteParse.perSecond,
                "goal ≥ \(BenchmarkFormat.rate(goal)) msg/s: \(inviteParse.perSecond >= goal ? "met" : "NOT MET"), \(Self.percent(inviteParse.perSecond, baseline.perSecond)) of baseline"),
            row("  INVITE+SDP parse+serialize", inviteRoundTrip.perSecond, "\(Self.percent(inviteRoundTrip.perSecond, baseline.perSecond)) of baseline"),
            row("  REGISTER parse+serialize", registerRoundTrip.perSecond, "\(Self.percent(registerRoundTrip.perSecond, baseline.perSecond)) of baseline"),
            "  (checksums \(baseline.checksum & 0xFF) \(inviteParse.checksum & 0xFF) \(inviteRoundTrip.checksum & 0xFF) \(registerRoundTrip.checksum & 0xFF))",
        ]
    }

    static func percent(_ value: Double, _ baseline: Double) -> String {
        String(Int((value / baseline * 100).rounded())) + "%"
    }

    static func countLineEnds(_ bytes: [UInt8]) -> Int {
        bytes.withUnsafeBufferPointer { buffer in
            var count = 0
            var index = 1
            while index < buffer.count {
                if buffer[index] == 0x0A, buffer[index - 1] == 0x0D { count += 1 }
                index += 1
            }
            return count
        }
    }
}
