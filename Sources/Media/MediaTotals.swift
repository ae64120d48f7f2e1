/// What the relay carried for the calls that have ended, summed when each is released: counters
/// for metrics that only ever grow. A call's figures join them once, with their final values, so
/// a scrape never sees a figure fall when a call ends.
public struct MediaTotals: Sendable, Hashable {
    public var calls: UInt64 = 0
    /// Streams (one per leg that received RTP) and what they received.
    public var streams: UInt64 = 0
    public var packetsReceived: UInt64 = 0
    public var bytesReceived: UInt64 = 0
    public var packetsSent: UInt64 = 0
    public var bytesSent: UInt64 = 0
    public var authenticationFailures: UInt64 = 0
    public var replays: UInt64 = 0
    public var wrongSource: UInt64 = 0
    public var malformed: UInt64 = 0
    public var dropped: UInt64 = 0
    public var sendFailures: UInt64 = 0
    /// RFC 3550 loss: packets expected and lost (never negative per stream), summed over streams.
    public var packetsExpected: UInt64 = 0
    public var packetsLost: UInt64 = 0
    /// Each stream's final interarrival jitter, summed, with the number of streams summed: the
    /// average is `jitterMillisecondsSum / Double(streams)`, as rtpengine exports its jitter.
    public var jitterMillisecondsSum: Double = 0

    public init() {}

    public mutating func add(_ call: MediaCallStatistics) {
        calls += 1
        for leg in call.legs {
            let inbound = leg.inbound
            packetsSent += leg.outbound.packets
            bytesSent += leg.outbound.bytes
            sendFailures += leg.outbound.failures
            authenticationFailures += inbound.authenticationFailures
            replays += inbound.replays
            wrongSource += inbound.wrongSource
            malformed += inbound.malformed
            dropped += inbound.dropped
            guard inbound.packets > 0 else { continue }
            streams += 1
            packetsReceived += inbound.packets
            bytesReceived += inbound.bytes
            packetsExpected += inbound.expected
            packetsLost += UInt64(max(0, inbound.lost))
            jitterMillisecondsSum += inbound.jitterMilliseconds
        }
    }
}
