import Foundation
import NIOCore
import NIOPosix
import Testing

/// The namespace lab on its own, with IP forwarding in `edge` standing in for the edge that is
/// not there yet: Kamailio in `hq`, sipp in `phones`, and a WAN link that goes down and up.
@Suite(.serialized, .enabled(if: NetworkNamespaceLab.available, "network namespaces need root and iproute2"))
struct NetworkNamespaceLabTests {
    @Test func phonesReachKamailioInHQUntilTheWANGoesDownAndAgainWhenItComesBack() async throws {
        let lab = try NetworkNamespaceLab.create()
        defer { lab.destroy() }
        try lab.enableForwarding()
        let kamailio = try await KamailioUnderTest.start(address: lab.hqAddress, port: 5060, tlsPort: 5061, in: (lab, .hq))
        defer { kamailio.stop() }
        let target = "\(lab.hqAddress):5060"
        let phones = lab.launcher(.phones)
        let local = ["-i", lab.phonesAddress]

        let register = try KamailioPeerTests.sipp(target, scenario: "sipp-register", calls: 3, extra: local, launcher: phones)
        #expect(register.outcome.status == 0, "sipp exit \(register.outcome.status): \(register.errors.prefix(2000))")
        let bindings = try kamailio.bindings()
        #expect(Set(bindings.map(\.aor)) == ["phone1", "phone2", "phone3"], "\(bindings)")
        #expect(bindings.allSatisfy { $0.contact.contains("@\(lab.phonesAddress):") && $0.socket == "udp:\(target)" }, "\(bindings)")

        try lab.setWAN(up: false)
        let cut = try KamailioPeerTests.sipp(target, scenario: "sipp-options", extra: local + ["-recv_timeout", "2000"], launcher: phones)
        #expect(cut.outcome.status != 0 && !cut.outcome.timedOut, "OPTIONS crossed a WAN that is down: \(cut.outcome.output.suffix(1000))")

        try lab.setWAN(up: true)
        var restored = false
        let deadline = ContinuousClock.now + .seconds(20)
        while !restored, ContinuousClock.now < deadline {
            restored = try KamailioPeerTests.sipp(target, scenario: "sipp-options", extra: local + ["-recv_timeout", "2000"], launcher: phones)
                .outcome.status == 0
        }
        #expect(restored, "OPTIONS did not reach Kamailio within 20 s of the WAN coming back")
    }

    @Test func aSocketMadeOnANamespaceThreadLivesInThatNamespace() async throws {
        let lab = try NetworkNamespaceLab.create()
        defer { lab.destroy() }
        try lab.enableForwarding()
        let kamailio = try await KamailioUnderTest.start(address: lab.hqAddress, port: 5060, tlsPort: 5061, in: (lab, .hq))
        defer { kamailio.stop() }
        let group = MultiThreadedEventLoopGroup.singleton
        let answer = group.next().makePromise(of: String.self)
        // The phones' address exists only in `phones`: the bind succeeds only if the socket is there.
        let channel = try lab.onThread(in: .phones) {
            try DatagramBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(FirstDatagram(answer)) }
                }
                .bind(host: lab.phonesAddress, port: 0).wait()
        }
        defer { channel.close(promise: nil) }
        #expect(channel.localAddress?.ipAddress == lab.phonesAddress)
        let options = SIPProbe.options(port: 5060).replacingOccurrences(of: "127.0.0.1", with: lab.hqAddress)
        let hq = try SocketAddress(ipAddress: lab.hqAddress, port: 5060)
        try await channel.writeAndFlush(AddressedEnvelope(remoteAddress: hq, data: channel.allocator.buffer(string: options)))
        group.next().scheduleTask(in: .seconds(10)) { answer.fail(LabError(reason: "no answer from Kamailio in hq within 10 s")) }
        #expect(try await answer.futureResult.get().hasPrefix("SIP/2.0 200 OK"))
        #expect(throws: (any Error).self) {
            try DatagramBootstrap(group: group).bind(host: lab.phonesAddress, port: 0).wait()
        }
    }
}

/// Hands the first datagram a channel receives to a promise.
private final class FirstDatagram: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let promise: EventLoopPromise<String>

    init(_ promise: EventLoopPromise<String>) { self.promise = promise }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        promise.succeed(String(buffer: unwrapInboundIn(data).data))
    }
}
