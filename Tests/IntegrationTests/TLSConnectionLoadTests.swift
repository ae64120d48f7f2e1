import Foundation
import NIOCore
import NIOPosix
import Runtime
import SIPTransport
import TLS
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Waits for the TLS handshake of a client channel and reports it through a promise.
final class HandshakeWaiter: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    let promise: EventLoopPromise<Void>

    init(promise: EventLoopPromise<Void>) { self.promise = promise }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is TLSHandshakeCompleted { promise.succeed() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(ChannelError.ioOnClosedChannel)
        context.fireChannelInactive()
    }
}

@Suite(.serialized) struct TLSConnectionLoadTests {
    static func raiseDescriptorLimit(to wanted: rlim_t) {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        limit.rlim_cur = min(max(limit.rlim_cur, wanted), limit.rlim_max)
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }

    @Test func thousandIdleMutualTLSConnectionsAreHeldAndTheEdgeStillServes() async throws {
        Self.raiseDescriptorLimit(to: 4096)
        // A thousand phones from one test address; the per-address cap has its own test (StreamFloodTests).
        let edge = try await EdgeUnderTest.start(tls: IntegrationPKI.edgeTLS()) { $0.sip.maximumConnectionsPerAddress = 2_000 }
        let context = try TLSContext(configuration: TLSConfiguration(
            role: .client, certificateChainPath: IntegrationPKI.path("phone.pem"), privateKeyPath: IntegrationPKI.path("phone.key"),
            trustRootsPath: IntegrationPKI.path("ca.pem"), serverName: "edge.test"))
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var channels: [any Channel] = []
        for _ in 0..<1000 {
            let promise = group.next().makePromise(of: Void.self)
            let channel = try await ClientBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(TLSHandler(context: context))
                        try channel.pipeline.syncOperations.addHandler(HandshakeWaiter(promise: promise))
                    }
                }
                .connect(host: "127.0.0.1", port: edge.tlsPort).get()
            try await promise.futureResult.get()
            channels.append(channel)
        }
        try await Task.sleep(for: .milliseconds(200))
        #expect(edge.runtime.connections.count(of: .tls) == 1000)
        #expect(edge.runtime.tlsStatistics.succeeded == 1000)
        #expect(edge.runtime.tlsStatistics.failures.isEmpty)

        let udp = try LoopbackSocket(udp: true, port: edge.port)
        udp.send(SIPProbe.options(port: edge.port))
        #expect(udp.receive()?.hasPrefix("SIP/2.0 200 OK") == true)

        for channel in channels { try? await channel.close() }
        try await Task.sleep(for: .milliseconds(300))
        #expect(edge.runtime.connections.count(of: .tls) == 0)
        try await group.shutdownGracefully()
        await edge.stop()
    }
}
