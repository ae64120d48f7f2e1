import Foundation
import NIOCore
import NIOPosix
import TLS

#if canImport(Glibc)
import Glibc
#endif

/// The client half of the idle-memory measurement, run as a separate process so its memory is
/// not counted: opens `count` mutual-TLS connections, says "ready", and holds them until killed.
public enum TLSIdleClients {
    public static func run(port: Int, count: Int, certificate: String, key: String, ca: String) async throws {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        limit.rlim_cur = limit.rlim_max
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        let context = try TLSContext(configuration: TLSConfiguration(
            role: .client, certificateChainPath: certificate, privateKeyPath: key, trustRootsPath: ca, serverName: "edge.bench"))
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var channels: [any Channel] = []
        for _ in 0..<count {
            let promise = group.next().makePromise(of: Void.self)
            let channel = try await ClientBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(TLSHandler(context: context))
                        try channel.pipeline.syncOperations.addHandler(HandshakeSignal(promise: promise))
                    }
                }
                .connect(host: "127.0.0.1", port: port).get()
            try await promise.futureResult.get()
            channels.append(channel)
        }
        // Unbuffered, because the parent waits for this line on a pipe.
        FileHandle.standardOutput.write("ready\n".data(using: .utf8)!)
        while true { try await Task.sleep(for: .seconds(3600)) }
    }
}

final class HandshakeSignal: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    let promise: EventLoopPromise<Void>

    init(promise: EventLoopPromise<Void>) { self.promise = promise }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is TLSHandshakeCompleted { promise.succeed() }
        context.fireUserInboundEventTriggered(event)
    }
}
