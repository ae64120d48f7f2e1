import Edge
import Foundation
import Logging
import NIOCore
import NIOPosix
import PKI
import SIP
import SIPTransaction
import SIPTransport
import Synchronization
import TLS
import Testing

@testable import Runtime

/// The client transactions of the edge's SIP stack over real UDP and TCP sockets on loopback,
/// against a peer that answers late, never, twice, or drops the connection. T1 is 40 ms so the
/// RFC 3261 timers (A, B, E, F, K) run in well under a second or two.
@Suite(.serialized) struct SIPStackClientTests {
    static let timers = TransactionTimers(t1: .milliseconds(40), t2: .milliseconds(160), t4: .milliseconds(100))

    @Test func aLateAnswerArrivesAfterTimerERetransmissions() async throws {
        try await withStack { stack, peer, context in
            peer.answer { request, copies in copies == 3 ? [SIPResponse(respondingTo: request, statusCode: 200, reasonPhrase: "OK", toTag: "t")] : [] }
            let response = try await stack.request(Self.options(), over: context)
            #expect(response.statusCode == 200)
            #expect(peer.copies == 3)
            #expect(peer.branches.count == 1)
            #expect(stack.statistics[.clientAnswered] == 1)
        }
    }

    @Test func noAnswerEndsAtTimerFAfterRetransmissionsCappedAtT2() async throws {
        try await withStack { stack, peer, context in
            let clock = ContinuousClock()
            let started = clock.now
            await #expect(throws: SIPStack.ClientFailure.timeout("Timer F (udp:127.0.0.1:\(peer.port))")) {
                try await stack.request(Self.options(), over: context)
            }
            let elapsed = started.duration(to: clock.now)
            #expect(elapsed >= Self.timers.t1 * 64)
            // 40, 80, 160, then every 160 ms up to 2.56 s: about 17 copies.
            #expect(peer.copies >= 12)
            #expect(stack.statistics[.timeouts] == 1)
            #expect(stack.activeTransactions == 0)
        }
    }

    @Test func anInviteWithoutAnswerEndsAtTimerBAfterTimerARetransmissions() async throws {
        try await withStack { stack, peer, context in
            var invite = Self.options()
            invite.method = .invite
            invite.headers.set(.cseq, "1 INVITE")
            await #expect(throws: SIPStack.ClientFailure.timeout("Timer B (udp:127.0.0.1:\(peer.port))")) {
                try await stack.request(invite, over: context)
            }
            // Timer A doubles without a cap: 40, 80, 160, 320, 640, 1280 ms within 64×T1.
            #expect(peer.copies >= 6)
        }
    }

    @Test func aSecondAnswerIsAbsorbedUntilTimerKAndStrayAfterIt() async throws {
        try await withStack { stack, peer, context in
            let answered = Mutex<SIPRequest?>(nil)
            peer.answer { request, _ in
                answered.withLock { $0 = request }
                let ok = SIPResponse(respondingTo: request, statusCode: 200, reasonPhrase: "OK", toTag: "t")
                return [ok, ok]
            }
            let response = try await stack.request(Self.options(), over: context)
            #expect(response.statusCode == 200)
            try await waitUntil { stack.statistics[.retransmissionsAbsorbed] == 1 }
            // Timer K (T4) ends the transaction; the same answer is then nobody's.
            try await waitUntil { stack.activeTransactions == 0 }
            let request = try #require(answered.withLock { $0 })
            peer.send(SIPResponse(respondingTo: request, statusCode: 200, reasonPhrase: "OK", toTag: "t"))
            try await waitUntil { stack.statistics[.strayResponses] == 1 }
            #expect(stack.statistics[.clientAnswered] == 1)
        }
    }

    @Test func theCallersDeadlineComesBeforeTimerF() async throws {
        try await withStack { stack, peer, context in
            await #expect(throws: SIPStack.ClientFailure.timeout("200 ms from udp:127.0.0.1:\(peer.port)")) {
                try await stack.request(Self.options(), over: context, deadline: .milliseconds(200))
            }
            #expect(stack.statistics[.clientDeadlines] == 1)
        }
    }

    /// Over a stream nothing is retransmitted, so a connection that drops fails the transaction
    /// at once, not at Timer F.
    @Test func aTrunkConnectionThatDropsMidTransactionFailsAtOnce() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let received = ReadCounter()
        let server = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(CloseOnFirstRead(received: received))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let connections = SIPConnectionTable(), statistics = SIPTransportStatistics()
        let stack = SIPStack(
            sender: SIPSender(connections: connections, statistics: statistics), timerLoops: [group.next()],
            timers: TransactionTimers(), capacity: 10, logger: Logger(label: "test"))
        let trunk = TrunkConnection(
            callManager: .init(transport: .tcp, address: "127.0.0.1", port: server.localAddress!.port!), stack: stack, group: group,
            tlsContext: nil, protection: nil, connections: connections, statistics: statistics, logger: Logger(label: "test"))
        let clock = ContinuousClock()
        let started = clock.now
        do {
            _ = try await trunk.send(Self.options(), timeout: .seconds(20))
            Issue.record("a dropped connection produced a response")
        } catch let failure as TrunkFailure {
            #expect("\(failure)".contains("closed"))
        }
        #expect(started.duration(to: clock.now) < .seconds(5))
        #expect(received.reads.load(ordering: .relaxed) == 1)
        #expect(stack.activeTransactions == 0)
        await trunk.close()
        try await server.close()
        try await group.shutdownGracefully()
    }

    /// The same over TLS: the call manager's end completes the handshake, reads the request and
    /// drops the connection.
    @Test func aTLSTrunkConnectionThatDropsMidTransactionFailsAtOnce() async throws {
        let state = NSTemporaryDirectory() + "outpost-tls-drop-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: state) }
        var configuration = OutpostConfiguration(stateDirectory: state)
        configuration.pki = .init(names: ["edge.test"], addresses: ["127.0.0.1"])
        configuration.sip.listeners = [.init(transport: .tls, address: "127.0.0.1", port: 0)]
        let logger = Logger(label: "test")
        try OutpostRuntime.prepareStateDirectory(state)
        let serverContext = try #require(try EdgePKI.serverContexts(configuration, logger: logger).values.first)
        let clientContext = try EdgePKI.trunkClientContext(configuration, logger: logger)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let received = ReadCounter()
        let server = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(TLSHandler(context: serverContext))
                    try channel.pipeline.syncOperations.addHandler(CloseOnFirstRead(received: received))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let connections = SIPConnectionTable(), statistics = SIPTransportStatistics()
        let stack = SIPStack(
            sender: SIPSender(connections: connections, statistics: statistics), timerLoops: [group.next()],
            timers: TransactionTimers(), capacity: 10, logger: logger)
        let trunk = TrunkConnection(
            callManager: .init(transport: .tls, address: "127.0.0.1", port: server.localAddress!.port!), stack: stack, group: group,
            tlsContext: clientContext, protection: nil, connections: connections, statistics: statistics, logger: logger)
        let clock = ContinuousClock()
        let started = clock.now
        do {
            _ = try await trunk.send(Self.options(), timeout: .seconds(20))
            Issue.record("a dropped connection produced a response")
        } catch let failure as TrunkFailure {
            #expect("\(failure)".contains("closed"), "\(failure)")
        }
        #expect(started.duration(to: clock.now) < .seconds(5))
        // The request was decrypted by the peer: the handshake (name 127.0.0.1 in the SAN) succeeded.
        #expect(received.reads.load(ordering: .relaxed) == 1)
        #expect(stack.activeTransactions == 0)
        await trunk.close()
        try await server.close()
        try await group.shutdownGracefully()
    }

    // MARK: Requests from phones, through the same stack to the core

    @Test func anOptionsFromAPhoneIsAnsweredAndItsRetransmissionGetsTheSameAnswer() async throws {
        try await withStack { stack, peer, context in
            stack.attach(EdgeCore())
            let local = try #require(context.local)
            let options = Self.incoming(.options, from: peer)
            peer.send(options, to: local)
            try await waitUntil { peer.responses.count == 1 }
            peer.send(options, to: local)
            try await waitUntil { peer.responses.count == 2 }
            #expect(peer.responses.map(\.statusCode) == [200, 200])
            #expect(peer.responses[0].headers[.to] == peer.responses[1].headers[.to], "the retransmission is answered by the same transaction")
            // An ACK no transaction claims is counted, not answered.
            peer.send(Self.incoming(.ack, from: peer), to: local)
            try await waitUntil { stack.statistics[.unmatchedACKs] == 1 }
            #expect(peer.responses.count == 2)
        }
    }

    @Test func aRegisterIsAnsweredLaterByTheRegistrarThroughTheCore() async throws {
        try await withStack { stack, peer, context in
            let inventory = try DeviceInventory([
                Device(name: "soft-3001", lines: [DeviceLine(number: "3001")], security: .nonSecure, digest: DigestAccount(username: "3001", password: "s")),
            ])
            let registrar = Registrar(
                settings: RegistrarSettings(), hashing: OpenSSLDigests.hashing(fipsMode: false), ratePerSource: 100, inventory: inventory,
                policy: RequestPolicy(capabilities: EdgeCapabilities()),
                journal: NoJournal(), restored: [], logger: Logger(label: "test"), wallClock: { 1_800_000_000 })
            stack.attach(EdgeCore(registrar: registrar))
            var register = Self.incoming(.register, from: peer)
            register.headers.append(.contact, "<sip:3001@127.0.0.1:\(peer.port)>")
            peer.send(register, to: try #require(context.local))
            try await waitUntil { peer.responses.count == 1 }
            #expect(peer.responses.first?.statusCode == 401)
            #expect(peer.responses.first?.headers[.wwwAuthenticate] != nil)
        }
    }

    static func incoming(_ method: SIPMethod, from peer: UDPPeer) -> SIPRequest {
        var headers: SIPHeaders = [
            (.via, "SIP/2.0/UDP 127.0.0.1:\(peer.port);branch=z9hG4bK-peer-\(method.rawValue);rport"), (.maxForwards, "70"),
            (.from, "<sip:3001@127.0.0.1>;tag=p1"), (.to, "<sip:3001@127.0.0.1>"), (.callID, "peer-call-\(method.rawValue)"),
            (.cseq, "1 \(method == .ack ? "ACK" : method.rawValue)"),
        ]
        headers.append(.contentLength, "0")
        return SIPRequest(method: method, uri: .sip(SIPURI(host: "127.0.0.1")), headers: headers)
    }

    // MARK: Harness

    static func options() -> SIPRequest {
        SIPRequest(outOfDialog: .options, uri: .sip(SIPURI(host: "127.0.0.1")), from: "sip:edge@127.0.0.1", to: "sip:peer@127.0.0.1", callID: SIPIdentifiers.callID(), cseq: 1)
    }

    private func withStack(_ body: (SIPStack, UDPPeer, SIPSource) async throws -> Void) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let connections = SIPConnectionTable(), statistics = SIPTransportStatistics()
        let stack = SIPStack(
            sender: SIPSender(connections: connections, statistics: statistics), timerLoops: [group.next()], timers: Self.timers,
            capacity: 100, logger: Logger(label: "test"))
        let peer = try await UDPPeer.start(group: group)
        let edge = try await DatagramBootstrap(group: group)
            .channelInitializer { channel in
                SIPPipeline.configureDatagram(
                    channel, receiver: stack, connections: connections, statistics: statistics, settings: SIPTransportSettings(),
                    logger: Logger(label: "test"))
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let id = try #require(connections.id(of: edge))
        let context = SIPSource(transport: .udp, remote: peer.address, local: edge.localAddress, connection: id)
        do {
            try await body(stack, peer, context)
        } catch {
            try? await edge.close()
            try? await peer.channel.close()
            try? await group.shutdownGracefully()
            throw error
        }
        try await edge.close()
        try await peer.channel.close()
        try await group.shutdownGracefully()
    }

    private func waitUntil(_ condition: () -> Bool) async throws {
        for _ in 0..<200 where !condition() { try await Task.sleep(for: .milliseconds(10)) }
        #expect(condition())
    }
}

/// A UDP peer that records every request it receives and answers as told.
final class UDPPeer: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private struct State {
        var answer: @Sendable (SIPRequest, Int) -> [SIPResponse] = { _, _ in [] }
        var copies = 0
        var branches: Set<String> = []
        var lastSource: SocketAddress?
        var channel: (any Channel)?
        var responses: [SIPResponse] = []
    }

    private let state = Mutex(State())

    static func start(group: any EventLoopGroup) async throws -> UDPPeer {
        let peer = UDPPeer()
        let channel = try await DatagramBootstrap(group: group)
            .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(peer) } }
            .bind(host: "127.0.0.1", port: 0).get()
        peer.state.withLock { $0.channel = channel }
        return peer
    }

    var channel: any Channel { state.withLock { $0.channel! } }
    var address: SocketAddress { channel.localAddress! }
    var port: Int { address.port! }
    var copies: Int { state.withLock { $0.copies } }
    var branches: Set<String> { state.withLock { $0.branches } }

    /// `answer` gets each request and how many copies of it have arrived so far.
    func answer(_ answer: @escaping @Sendable (SIPRequest, Int) -> [SIPResponse]) {
        state.withLock { $0.answer = answer }
    }

    func send(_ response: SIPResponse) {
        guard let remote = state.withLock({ $0.lastSource }) else { return }
        let channel = self.channel
        channel.writeAndFlush(AddressedEnvelope(remoteAddress: remote, data: channel.allocator.buffer(bytes: response.serialized)), promise: nil)
    }

    var responses: [SIPResponse] { state.withLock { $0.responses } }

    /// Sends a request, as a phone would, to `remote`.
    func send(_ request: SIPRequest, to remote: SocketAddress) {
        let channel = self.channel
        channel.writeAndFlush(AddressedEnvelope(remoteAddress: remote, data: channel.allocator.buffer(bytes: request.serialized)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let message = envelope.data.withUnsafeReadableBytes { try? SIPMessageParser.parse($0) }
        if case .response(let response)? = message {
            state.withLock { $0.responses.append(response) }
            return
        }
        guard case .request(let request)? = message else { return }
        let (answer, copies) = state.withLock { state in
            state.copies += 1
            if let branch = try? request.headers.topVia().branch { state.branches.insert(branch) }
            state.lastSource = envelope.remoteAddress
            return (state.answer, state.copies)
        }
        for response in answer(request, copies) {
            context.writeAndFlush(
                NIOAny(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: context.channel.allocator.buffer(bytes: response.serialized))),
                promise: nil)
        }
    }
}

/// A TCP call manager that closes the connection as soon as a request arrives.
final class CloseOnFirstRead: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    let received: ReadCounter
    init(received: ReadCounter) { self.received = received }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received.reads.add(1, ordering: .relaxed)
        context.close(promise: nil)
    }
}

struct NoJournal: BindingJournal {
    func write(addressOfRecord: String, bindings: [Binding], completion: @escaping @Sendable (Result<Void, any Error>) -> Void) {
        completion(.success(()))
    }
    func loadBindings() throws -> [Binding] { [] }
}

final class ReadCounter: Sendable {
    let reads = Atomic(0)
}
