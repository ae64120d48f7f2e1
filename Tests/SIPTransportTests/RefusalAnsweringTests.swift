import Logging
import NIOCore
import NIOEmbedded
import SIP
import Testing

@testable import SIPTransport

/// Issue 16 §5: what is refused is answered precisely, counted, and a stream out of step is closed.
@Suite struct RefusalAnsweringTests {
    let logger = Logger(label: "test")
    static let request = SIPHandlerTests.request

    func streamChannel(_ receiver: CollectingReceiver, statistics: SIPTransportStatistics) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try SIPPipeline.configureStream(
            channel, transport: .tcp, receiver: receiver, connections: SIPConnectionTable(), statistics: statistics,
            settings: SIPTransportSettings(maximumMessageSize: 4096), logger: logger
        ).wait()
        try channel.connect(to: SocketAddress(ipAddress: "192.0.2.7", port: 40000)).wait()
        return channel
    }

    func datagramChannel(_ receiver: CollectingReceiver, statistics: SIPTransportStatistics) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try SIPPipeline.configureDatagram(
            channel, receiver: receiver, connections: SIPConnectionTable(), statistics: statistics, settings: SIPTransportSettings(),
            logger: logger
        ).wait()
        return channel
    }

    static func response(_ buffer: ByteBuffer?) throws -> String {
        String(buffer: try #require(buffer))
    }

    @Test func datagramMissingFromToAndCallIDGets400NamingThem() throws {
        let statistics = SIPTransportStatistics()
        let receiver = CollectingReceiver()
        let channel = try datagramChannel(receiver, statistics: statistics)
        let remote = try SocketAddress(ipAddress: "192.0.2.9", port: 5062)
        let bad = Self.request.replacingOccurrences("From: <sip:a@b>;tag=1\r\n", "").replacingOccurrences("To: <sip:edge>\r\n", "")
            .replacingOccurrences("Call-ID: c1\r\n", "")
        try channel.writeInbound(AddressedEnvelope(remoteAddress: remote, data: ByteBuffer(string: bad)))
        let answer = try #require(try channel.readOutbound(as: AddressedEnvelope<ByteBuffer>.self))
        #expect(answer.remoteAddress == remote)
        let text = String(buffer: answer.data)
        #expect(text.hasPrefix("SIP/2.0 400 Bad From: missing, as are To and Call-ID\r\n"))
        #expect(text.contains("CSeq: 1 OPTIONS\r\n"))
        #expect(receiver.messages.isEmpty)
        #expect(statistics[.missingMandatoryHeaders] == 1)
        #expect(statistics[.badRequestsAnswered] == 1)
        #expect(statistics[.malformedDropped] == 0)
        _ = try channel.finish()
    }

    @Test func datagramWithoutAViaIsCountedNotAnswered() throws {
        let statistics = SIPTransportStatistics()
        let channel = try datagramChannel(CollectingReceiver(), statistics: statistics)
        let bad = Self.request.replacingOccurrences("Via: SIP/2.0/TCP phone.local:5060;branch=z9hG4bKa;rport\r\n", "")
        try channel.writeInbound(AddressedEnvelope(remoteAddress: try SocketAddress(ipAddress: "192.0.2.9", port: 5062), data: ByteBuffer(string: bad)))
        #expect(try channel.readOutbound(as: AddressedEnvelope<ByteBuffer>.self) == nil)
        #expect(statistics[.missingMandatoryHeaders] == 1)
        #expect(statistics[.malformedDropped] == 1)
        _ = try channel.finish()
    }

    /// A header missing on a stream leaves its framing intact: 400, and the connection stays.
    @Test func streamMissingHeaderGets400AndStaysOpen() throws {
        let statistics = SIPTransportStatistics()
        let receiver = CollectingReceiver()
        let channel = try streamChannel(receiver, statistics: statistics)
        try channel.writeInbound(ByteBuffer(string: Self.request.replacingOccurrences("Call-ID: c1\r\n", "")))
        #expect(try Self.response(try channel.readOutbound(as: ByteBuffer.self)).hasPrefix("SIP/2.0 400 Bad Call-ID: missing\r\n"))
        try channel.writeInbound(ByteBuffer(string: Self.request))
        #expect(receiver.messages.count == 1)
        #expect(channel.isActive)
        #expect(statistics[.missingMandatoryHeaders] == 1)
        #expect(statistics[.connectionsClosedOnError] == 0)
        _ = try? channel.finish()
    }

    /// A Content-Length shorter than the body: the rest of the body is where the next message
    /// should start. It is answered (its head is the next request's) and the connection closed;
    /// nothing after it is delivered.
    @Test func contentLengthMismatchOnAStreamIsAnsweredAndClosed() throws {
        let statistics = SIPTransportStatistics()
        let receiver = CollectingReceiver()
        let channel = try streamChannel(receiver, statistics: statistics)
        let short = Self.request.replacingOccurrences("Content-Length: 0\r\n\r\n", "Content-Length: 4\r\n\r\n") + "v=0\r\no=- 1 1 IN IP4 192.0.2.7\r\n"
        try channel.writeInbound(ByteBuffer(string: short + Self.request + Self.request))
        #expect(receiver.messages.count == 1)
        let answer = try Self.response(try channel.readOutbound(as: ByteBuffer.self))
        #expect(answer.hasPrefix("SIP/2.0 400 Bad Request-Line"))
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive)
        #expect(receiver.messages.count == 1)
        #expect(statistics[.framingErrors] == 1)
        #expect(statistics[.connectionsClosedOnError] == 1)
    }

    @Test func missingContentLengthOnAStreamIsAnsweredAndClosed() throws {
        let statistics = SIPTransportStatistics()
        let channel = try streamChannel(CollectingReceiver(), statistics: statistics)
        _ = try? channel.writeInbound(ByteBuffer(string: Self.request.replacingOccurrences("Content-Length: 0\r\n", "")))
        #expect(try Self.response(try channel.readOutbound(as: ByteBuffer.self)).hasPrefix("SIP/2.0 400 Bad Content-Length"))
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive)
        #expect(statistics[.framingErrors] == 1)
        #expect(statistics[.connectionsClosedOnError] == 1)
    }

    /// Garbage with no request head to answer: closed, counted.
    @Test func unanswerableGarbageOnAStreamCloses() throws {
        let statistics = SIPTransportStatistics()
        let channel = try streamChannel(CollectingReceiver(), statistics: statistics)
        _ = try? channel.writeInbound(ByteBuffer(string: "HELLO\r\nContent-Length: 0\r\n\r\n"))
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive)
        #expect(statistics[.malformedDropped] == 1)
        #expect(statistics[.connectionsClosedOnError] == 1)
    }
}
