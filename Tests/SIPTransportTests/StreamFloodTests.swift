import Logging
import NIOCore
import NIOPosix
import SIP
import Testing

@testable import SIPTransport

/// Floods against real sockets on loopback: the per-address connection cap and the deadline for
/// finishing a message. Loopback answers for all of 127/8, so 127.0.0.2 is another address.
@Suite struct StreamFloodTests {
    static let group = MultiThreadedEventLoopGroup.singleton
    let logger = Logger(label: "flood-test")

    final class Edge: Sendable {
        let listener: any Channel
        let statistics = SIPTransportStatistics()
        let receiver = CollectingReceiver()
        let limiter: SIPConnectionLimiter?
        var address: SocketAddress { listener.localAddress! }

        init(settings: SIPTransportSettings, logger: Logger) async throws {
            let limiter = settings.maximumConnectionsPerAddress.map { SIPConnectionLimiter(maximumPerAddress: $0) }
            self.limiter = limiter
            let statistics = statistics
            let receiver = receiver
            let table = SIPConnectionTable()
            listener = try await ServerBootstrap(group: StreamFloodTests.group)
                .childChannelInitializer { channel in
                    SIPPipeline.configureStream(
                        channel, transport: .tcp, receiver: receiver, connections: table, statistics: statistics,
                        settings: settings, limiter: limiter, logger: logger)
                }
                .bind(host: "127.0.0.1", port: 0).get()
        }

        func stop() async { try? await listener.close() }
    }

    static func connect(to edge: Edge, from host: String = "127.0.0.1") async throws -> any Channel {
        try await ClientBootstrap(group: group).bind(to: try SocketAddress(ipAddress: host, port: 0)).connect(to: edge.address).get()
    }

    static func send(_ text: String, on channel: any Channel) async throws {
        try await channel.writeAndFlush(ByteBuffer(string: text))
    }

    /// Polls until `condition` holds, for at most `seconds`.
    static func waitUntil(seconds: Double, _ condition: () -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }

    static func options(_ branch: String) -> String {
        "OPTIONS sip:edge SIP/2.0\r\nVia: SIP/2.0/TCP phone.local:5060;branch=z9hG4bK\(branch)\r\nFrom: <sip:a@b>;tag=1\r\n"
            + "To: <sip:edge>\r\nCall-ID: \(branch)\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    }

    @Test func connectionsBeyondThePerAddressCapAreClosedWhileAnotherAddressIsAccepted() async throws {
        let edge = try await Edge(settings: SIPTransportSettings(maximumConnectionsPerAddress: 3), logger: logger)
        defer { Task { await edge.stop() } }
        var held: [any Channel] = []
        defer { for channel in held { channel.close(promise: nil) } }
        for _ in 0..<3 { held.append(try await Self.connect(to: edge)) }
        #expect(try await Self.waitUntil(seconds: 5) { edge.limiter?.connections(from: "127.0.0.1") == 3 })

        // A bounded flood from the same address: every one is closed by the edge.
        var refused: [any Channel] = []
        for _ in 0..<5 { refused.append(try await Self.connect(to: edge)) }
        #expect(try await Self.waitUntil(seconds: 10) { refused.allSatisfy { !$0.isActive } })
        #expect(edge.statistics[.connectionsRefusedPerAddress] == 5)
        #expect(edge.statistics[.connectionsAccepted] == 3)
        #expect(held.allSatisfy { $0.isActive })

        // Another address still gets in and is served.
        let phone = try await Self.connect(to: edge, from: "127.0.0.2")
        held.append(phone)
        try await Self.send(Self.options("phone"), on: phone)
        #expect(try await Self.waitUntil(seconds: 5) { edge.receiver.messages.count == 1 })
        #expect(edge.receiver.messages.first?.1.remote.ipAddress == "127.0.0.2")
        #expect(phone.isActive)

        // A place given back is free again.
        try await held[0].close()
        #expect(try await Self.waitUntil(seconds: 5) { edge.limiter?.connections(from: "127.0.0.1") == 2 })
        let again = try await Self.connect(to: edge)
        held.append(again)
        #expect(try await Self.waitUntil(seconds: 5) { edge.limiter?.connections(from: "127.0.0.1") == 3 })
        try await Task.sleep(for: .milliseconds(200))
        #expect(again.isActive)
        #expect(edge.statistics[.connectionsRefusedPerAddress] == 5)
    }

    @Test func aSlowLorisIsClosedAtTheMessageDeadlineAndPromptPeersAreNot() async throws {
        let edge = try await Edge(settings: SIPTransportSettings(idleTimeout: .seconds(300), messageDeadline: .seconds(1)), logger: logger)
        defer { Task { await edge.stop() } }
        let loris = try await Self.connect(to: edge)
        let prompt = try await Self.connect(to: edge, from: "127.0.0.2")
        let silent = try await Self.connect(to: edge, from: "127.0.0.2")
        defer { for channel in [loris, prompt, silent] { channel.close(promise: nil) } }

        // One whole message, then a pause longer than the deadline: the deadline ended with the message.
        try await Self.send(Self.options("one"), on: prompt)
        #expect(try await Self.waitUntil(seconds: 5) { edge.receiver.messages.count == 1 })

        // The loris trickles a byte every 200 ms, well inside the 300 s idle timeout, never finishing.
        let bytes = Array(Self.options("loris").utf8)
        var sent = 0
        let started = ContinuousClock.now
        while loris.isActive, sent < bytes.count, ContinuousClock.now - started < .seconds(15) {
            try? await loris.writeAndFlush(ByteBuffer(bytes: [bytes[sent]]))
            sent += 1
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(try await Self.waitUntil(seconds: 5) { !loris.isActive })
        #expect(sent < bytes.count, "the whole message went through before the edge closed it")
        #expect(edge.statistics[.messageDeadlineCloses] == 1)

        // The prompt peer's second message and the silent peer: both still open and served.
        #expect(prompt.isActive && silent.isActive)
        try await Self.send(Self.options("two"), on: prompt)
        #expect(try await Self.waitUntil(seconds: 5) { edge.receiver.messages.count == 2 })
        #expect(edge.statistics[.messageDeadlineCloses] == 1)
    }
}
