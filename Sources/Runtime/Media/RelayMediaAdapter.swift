import Edge
import Media
import NIOCore
import SDP
import SRTP

/// The relay seen through the call layer's `MediaRelay`: SDP-level descriptions in, socket
/// addresses and libsrtp keys out.
public struct RelayMediaAdapter: Edge.MediaRelay {
    public let relay: RTPRelay
    private let observers: MediaObservers

    /// - Parameter observers: where the relay's events are fanned out (`MediaService.observers`).
    public init(relay: RTPRelay, observers: MediaObservers) {
        self.relay = relay
        self.observers = observers
    }

    public func observe(_ handler: @escaping @Sendable (MediaNotice) -> Void) {
        observers.add { event in
            if let notice = Self.notice(for: event) { handler(notice) }
        }
    }

    public func allocate(callID: String, legs: Int) async throws -> any MediaSession {
        RelayedMediaSession(call: try await relay.allocate(callID: callID, legs: legs))
    }

    /// The notices the call layer gets for the relay's events (latching is only logged).
    public static func notice(for event: MediaEvent) -> MediaNotice? {
        switch event {
        case .telephoneEvent(let callID, let leg, let event):
            .telephoneEvent(callID: callID, leg: leg, event: event.event, ended: event.ended, durationMilliseconds: event.durationMilliseconds)
        case .timeout(let callID, let leg, let reason):
            .timeout(callID: callID, leg: leg, reason: reason)
        case .latched:
            nil
        }
    }
}

/// Why a leg's description cannot be relayed.
public struct MediaDescriptionError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String
}

struct RelayedMediaSession: MediaSession {
    let call: RelayedCall

    var callID: String { call.callID }
    var ports: [Int] { call.ports }

    func update(leg: Int, _ description: MediaLegDescription) async throws -> MediaLegAnswer {
        let local = try await call.update(leg: leg, try Self.parameters(description))
        return MediaLegAnswer(
            port: local.rtpPort, suite: description.srtp?.suite, keySalt: local.outboundKey?.bytes)
    }

    func setDirection(leg: Int, _ direction: MediaDirection) async throws { try await call.setDirection(leg: leg, direction) }
    func answered() async throws { try await call.answered() }
    func sendTelephoneEvent(leg: Int, event: UInt8, duration: Duration) async throws {
        try await call.sendTelephoneEvent(leg: leg, event: event, duration: duration)
    }
    func release() async { await call.release() }

    func quality() async throws -> [MediaLegQuality] {
        try await call.statistics().legs.map { leg in
            MediaLegQuality(
                packetsReceived: leg.inbound.packets, packetsSent: leg.outbound.packets, lost: leg.inbound.lost,
                jitterMilliseconds: leg.inbound.jitterMilliseconds, authenticationFailures: leg.inbound.authenticationFailures,
                wrongSource: leg.inbound.wrongSource, peerReportedFractionLost: leg.outbound.peerReportedFractionLost,
                peerReportedJitterMilliseconds: leg.outbound.peerReportedJitterMilliseconds, encrypted: leg.encrypted)
        }
    }

    static func parameters(_ description: MediaLegDescription) throws -> MediaLegParameters {
        var remote: SocketAddress?
        var remoteRTCP: SocketAddress?
        if let address = description.address {
            do {
                remote = try SocketAddress(ipAddress: address, port: description.port)
                if let rtcpPort = description.rtcpPort { remoteRTCP = try SocketAddress(ipAddress: address, port: rtcpPort) }
            } catch {
                throw MediaDescriptionError(description: "'\(address)' port \(description.port) is not an IP address and port the relay can send to")
            }
        }
        let security: MediaLegSecurity
        if let srtp = description.srtp {
            guard let suite = SRTPSuite(sdpName: srtp.suite.name) else {
                throw MediaDescriptionError(description: "crypto suite \(srtp.suite.name) is not supported")
            }
            let peerKey: SRTPMasterKey?
            do {
                peerKey = try srtp.peerKeySalt.map { try SRTPMasterKey(suite: suite, bytes: $0) }
            } catch {
                throw MediaDescriptionError(description: "\(error)")
            }
            security = .srtp(outboundSuite: suite, peerKey: peerKey)
        } else {
            security = .plain
        }
        return MediaLegParameters(
            remote: remote, remoteRTCP: remoteRTCP, rtcpMux: description.rtcpMux, security: security,
            payloadFormats: description.payloadFormats, direction: description.direction, latchesPlainRTP: description.latchesPlainRTP)
    }
}
