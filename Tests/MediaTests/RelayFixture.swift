import Logging
import Media
import NIOCore
import NIOPosix
import PKI
import RTP
import Runtime
import SDP
import SRTP
import Synchronization

/// A relay on its own event loop over real loopback sockets, with the events it raised.
final class RelayFixture: Sendable {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let relay: RTPRelay
    private let recorded = EventLog()
    let observers = MediaObservers()

    static let pcmu = RTPMap(payloadType: 0, encoding: "PCMU", clockRate: 8_000)
    static func telephoneEvent(_ payloadType: UInt8) -> RTPMap {
        RTPMap(payloadType: payloadType, encoding: "telephone-event", clockRate: 8_000)
    }

    init(settings: MediaRelaySettings = MediaRelaySettings(bindHost: "127.0.0.1", ports: 43_000...43_999, quarantine: .zero)) {
        let recorded = self.recorded
        let observers = self.observers
        relay = RTPRelay(
            settings: settings, loops: [group.next()], sockets: DatagramMediaSockets(),
            keySource: { try SecureRandom.bytes($0) }, logger: Logger(label: "media-tests"),
            events: { event in
                recorded.events.withLock { $0.append(event) }
                observers.deliver(event)
            })
    }

    var events: [MediaEvent] { recorded.events.withLock { $0 } }

    func shutdown() async {
        try? await group.shutdownGracefully()
    }

    static func key(_ suite: SRTPSuite) throws -> SRTPMasterKey {
        try SRTPMasterKey(suite: suite, randomBytes: { try SecureRandom.bytes($0) })
    }

    /// 20 ms of PCMU whose bytes depend on the sequence number, so a packet is recognisable.
    static func rtp(sequence: UInt16, ssrc: UInt32 = 0x1234_5678, payloadType: UInt8 = 0, payloadLength: Int = 160) -> [UInt8] {
        let header = RTPHeader(payloadType: payloadType, sequenceNumber: sequence, timestamp: UInt32(sequence) &* 160, ssrc: ssrc)
        let payload = (0..<payloadLength).map { UInt8(truncatingIfNeeded: Int(sequence) &+ $0) }
        return RTPPacket(header: header, payload: payload).serialized()
    }

    static func parameters(
        _ peer: UDPPeer?, security: MediaLegSecurity, telephoneEvent: UInt8 = 101, direction: MediaDirection = .sendrecv,
        rtcpMux: Bool = false, remoteRTCP: SocketAddress? = nil, latches: Bool = false, remote: SocketAddress? = nil
    ) -> MediaLegParameters {
        MediaLegParameters(
            remote: remote ?? peer?.address, remoteRTCP: remoteRTCP, rtcpMux: rtcpMux, security: security,
            payloadFormats: [pcmu, Self.telephoneEvent(telephoneEvent)], direction: direction, latchesPlainRTP: latches)
    }
}

/// Runs `body` with a fresh relay and always shuts its loop down.
func withRelay<T>(
    settings: MediaRelaySettings = MediaRelaySettings(bindHost: "127.0.0.1", ports: 43_000...43_999, quarantine: .zero),
    _ body: (RelayFixture) async throws -> T
) async throws -> T {
    let fixture = RelayFixture(settings: settings)
    do {
        let result = try await body(fixture)
        await fixture.shutdown()
        return result
    } catch {
        await fixture.shutdown()
        throw error
    }
}

final class EventLog: Sendable {
    let events = Mutex<[MediaEvent]>([])
}

extension UDPPeer {
    var address: SocketAddress { try! SocketAddress(ipAddress: "127.0.0.1", port: port) }
}
