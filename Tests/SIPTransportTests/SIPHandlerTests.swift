import Logging
import NIOCore
import NIOEmbedded
import SIP
import Synchronization
import Testing

@testable import SIPTransport

final class CollectingReceiver: SIPMessageReceiver {
    let received = Mutex<[(SIPMessage, SIPSource)]>([])
    func receive(_ message: SIPMessage, from source: SIPSource) {
        received.withLock { $0.append((message, source)) }
    }
    var messages: [(SIPMessage, SIPSource)] { received.withLock { $0 } }
}

@Suite struct SIPHandlerTests {
    let logger = Logger(label: "test")

    func streamChannel(_ receiver: CollectingReceiver, statistics: SIPTransportStatistics, table: SIPConnectionTable) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try SIPPipeline.configureStream(
            channel, transport: .tcp, receiver: receiver, connections: table, statistics: statistics,
            settings: SIPTransportSettings(maximumMessageSize: 4096), logger: logger
        ).wait()
        try channel.connect(to: SocketAddress(ipAddress: "192.0.2.7", port: 40000)).wait()
        return channel
    }

    static let request = "OPTIONS sip:edge SIP/2.0\r\nVia: SIP/2.0/TCP phone.local:5060;branch=z9hG4bKa;rport\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:edge>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"

    @Test func streamDeliversAnnotatedRequestsWithTheirConnection() throws {
        let receiver = CollectingReceiver()
        let statistics = SIPTransportStatistics()
        let table = SIPConnectionTable()
        let channel = try streamChannel(receiver, statistics: statistics, table: table)
        try channel.writeInbound(ByteBuffer(string: Self.request + "\r\n\r\n"))
        let (message, source) = try #require(receiver.messages.first)
        let via = try message.headers.topVia()
        #expect(via.received == "192.0.2.7")
        #expect(via.rport == 40000)
        #expect(source.transport == .tcp)
        #expect(table.entry(source.connection) != nil)
        #expect(try channel.readOutbound(as: ByteBuffer.self).map { String(buffer: $0) } == "\r\n")
        #expect(statistics[.keepAlivePings] == 1)
        _ = try channel.finish()
        #expect(table.entry(source.connection) == nil)
    }

    @Test func malformedStreamRequestIsAnsweredWith400NamingTheHeader() throws {
        let receiver = CollectingReceiver()
        let statistics = SIPTransportStatistics()
        let channel = try streamChannel(receiver, statistics: statistics, table: SIPConnectionTable())
        let bad = Self.request.replacingOccurrences("CSeq: 1 OPTIONS", "CSeq: 1 INVITE")
        try channel.writeInbound(ByteBuffer(string: bad))
        let answer = try #require(try channel.readOutbound(as: ByteBuffer.self))
        let response = try #require(try SIPMessage(parsing: Array(answer.readableBytesView)).response)
        #expect(response.statusCode == 400)
        #expect(response.reasonPhrase.hasPrefix("Bad CSeq"))
        #expect(receiver.messages.isEmpty)
        #expect(statistics[.parseErrors] == 1)
        #expect(statistics[.badRequestsAnswered] == 1)
        #expect(channel.isActive)
        _ = try? channel.finish()
    }

    @Test func oversizeStreamMessageGets513AndTheConnectionCloses() throws {
        let statistics = SIPTransportStatistics()
        let channel = try streamChannel(CollectingReceiver(), statistics: statistics, table: SIPConnectionTable())
        let huge = Self.request.replacingOccurrences("Content-Length: 0", "Content-Length: 100000")
        _ = try? channel.writeInbound(ByteBuffer(string: huge))
        let answer = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(String(buffer: answer).hasPrefix("SIP/2.0 513 "))
        #expect(statistics[.oversizeMessages] == 1)
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive)
    }

    @Test func datagramGarbageIsCountedAndValidRequestsDelivered() throws {
        let receiver = CollectingReceiver()
        let statistics = SIPTransportStatistics()
        let channel = EmbeddedChannel()
        try SIPPipeline.configureDatagram(
            channel, receiver: receiver, connections: SIPConnectionTable(), statistics: statistics,
            settings: SIPTransportSettings(), logger: logger
        ).wait()
        let remote = try SocketAddress(ipAddress: "192.0.2.9", port: 5062)
        for garbage in ["\u{0}\u{1}binary", "INVITE", String(repeating: "A", count: 70_000), "\r\n\r\n"] {
            try channel.writeInbound(AddressedEnvelope(remoteAddress: remote, data: ByteBuffer(string: garbage)))
        }
        try channel.writeInbound(AddressedEnvelope(remoteAddress: remote, data: ByteBuffer(string: Self.request)))
        #expect(receiver.messages.count == 1)
        #expect(statistics[.keepAlivePings] == 1)
        #expect(statistics[.malformedDropped] == 3)
        #expect(statistics[.oversizeMessages] == 1)
        _ = try channel.finish()
    }
}

extension String {
    func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
