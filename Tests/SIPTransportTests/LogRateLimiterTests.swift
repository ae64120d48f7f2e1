import Logging
import NIOCore
import NIOEmbedded
import Synchronization
import Testing

@testable import SIPTransport

@Suite struct LogRateLimiterTests {
    let start = ContinuousClock.now

    @Test func aBurstPerCauseThenCountedSilenceReportedWithTheNextLine() {
        var limiter = LogRateLimiter(burst: 3, interval: .seconds(10))
        let first = (0..<3).map { limiter.admit("a", now: start + .milliseconds($0)) }
        #expect(first == [.log(suppressed: 0), .log(suppressed: 0), .log(suppressed: 0)])
        for i in 0..<100 { #expect(limiter.admit("a", now: start + .seconds(1) + .milliseconds(i)) == .suppress) }
        // Another cause has its own budget.
        #expect(limiter.admit("b", now: start + .seconds(2)) == .log(suppressed: 0))
        // Next window: the first line carries the count.
        #expect(limiter.admit("a", now: start + .seconds(10)) == .log(suppressed: 100))
        #expect(limiter.admit("a", now: start + .seconds(11)) == .log(suppressed: 0))
    }

    @Test func drainReportsAFloodThatStoppedAndForgetsIt() {
        var limiter = LogRateLimiter(burst: 1, interval: .seconds(10))
        _ = limiter.admit("a", now: start)
        for _ in 0..<7 { _ = limiter.admit("a", now: start + .seconds(1)) }
        _ = limiter.admit("b", now: start + .seconds(5))
        #expect(limiter.drainExpired(now: start + .seconds(9)).isEmpty)
        let drained = limiter.drainExpired(now: start + .seconds(10))
        #expect(drained.map(\.cause) == ["a"] && drained.map(\.suppressed) == [7])
        #expect(limiter.trackedCauses == 1)
        #expect(limiter.drainExpired(now: start + .seconds(20)).isEmpty)
        #expect(limiter.trackedCauses == 0)
    }

    @Test func causesAreBoundedAndTheRestShareOther() {
        var limiter = LogRateLimiter(burst: 1, interval: .seconds(10), maximumCauses: 4)
        for i in 0..<50 { _ = limiter.admit("cause \(i)", now: start) }
        #expect(limiter.trackedCauses == 4)
        // cause 0...2 kept their own; everything after went to "other", which logged once.
        #expect(limiter.admit("cause 1", now: start) == .suppress)
        #expect(limiter.admit("cause 49", now: start + .seconds(10)) == .log(suppressed: 46))
    }

    final class Lines: Sendable {
        let lines = Mutex<[(String, Logger.Metadata)]>([])
    }

    struct CapturingHandler: LogHandler {
        let sink: Lines
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            sink.lines.withLock { $0.append(("\(event.message)", event.metadata ?? [:])) }
        }
    }

    @Test func aGarbageFloodOverUDPWritesAFewLinesAndCountsTheRest() throws {
        let sink = Lines()
        let logger = Logger(label: "flood") { _ in CapturingHandler(sink: sink) }
        let statistics = SIPTransportStatistics()
        let now = Mutex(start)
        let channel = EmbeddedChannel(
            handler: SIPDatagramHandler(
                receiver: CollectingReceiver(), connections: SIPConnectionTable(), statistics: statistics,
                logLimiter: LogRateLimiter(burst: 5, interval: .seconds(10)), clock: { now.withLock { $0 } }, logger: logger))
        let remote = try SocketAddress(ipAddress: "192.0.2.9", port: 5062)
        for _ in 0..<1000 {
            try channel.writeInbound(AddressedEnvelope(remoteAddress: remote, data: ByteBuffer(string: "INVITE")))
        }
        #expect(statistics[.parseErrors] == 1000)
        #expect(sink.lines.withLock { $0.count } == 5)
        #expect(statistics[.logLinesSuppressed] == 995)
        // After the window, the flood's remains are reported once, then the next line goes out.
        now.withLock { $0 = start + .seconds(11) }
        try channel.writeInbound(AddressedEnvelope(remoteAddress: remote, data: ByteBuffer(string: "INVITE")))
        let lines = sink.lines.withLock { $0 }
        #expect(lines.count == 7)
        #expect(lines[5].0 == "malformed SIP datagrams not logged" && lines[5].1["suppressed"] == "995")
        #expect(lines[6].0 == "malformed SIP datagram" && lines[6].1["suppressed"] == nil)
        _ = try channel.finish()
    }

    @Test func malformedMessagesOverManyConnectionsShareOneLimit() throws {
        let sink = Lines()
        let logger = Logger(label: "flood") { _ in CapturingHandler(sink: sink) }
        let statistics = SIPTransportStatistics()
        let shared = SharedLogRateLimiter(LogRateLimiter(burst: 4, interval: .seconds(10)))
        let start = self.start
        let bad = RefusalAnsweringTests.request.replacingOccurrences("Call-ID: c1\r\n", "")
        var channels: [EmbeddedChannel] = []
        for index in 0..<3 {
            let channel = EmbeddedChannel()
            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(SIPStreamFramer()))
            try channel.pipeline.syncOperations.addHandler(
                SIPStreamHandler(
                    transport: .tcp, receiver: CollectingReceiver(), connections: SIPConnectionTable(), statistics: statistics,
                    logLimiter: shared, clock: { start }, logger: logger))
            try channel.connect(to: SocketAddress(ipAddress: "192.0.2.\(index + 1)", port: 40000)).wait()
            channels.append(channel)
        }
        for _ in 0..<10 {
            for channel in channels { try channel.writeInbound(ByteBuffer(string: bad)) }
        }
        // Every one answered (the connections stay open), four lines logged in all.
        #expect(statistics[.badRequestsAnswered] == 30)
        #expect(sink.lines.withLock { $0.count } == 4)
        #expect(statistics[.logLinesSuppressed] == 26)
        for channel in channels { _ = try? channel.finish() }
    }
}
