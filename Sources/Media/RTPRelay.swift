import Logging
import SDP
import NIOCore
import SRTP
import Synchronization

/// The media relay: a port pool and the calls whose media it anchors, each call on one of the
/// relay's own event loops (never the SIP loops), with all of a call's sockets on that loop.
public final class RTPRelay: Sendable {
    public let settings: MediaRelaySettings
    public let pool: MediaPortPool
    private let loops: [any EventLoop]
    private let rings: [NIOLoopBoundBox<OutputRing?>]
    private let sockets: any MediaSocketFactory
    private let keySource: @Sendable (Int) throws -> [UInt8]
    private let events: @Sendable (MediaEvent) -> Void
    private let logger: Logger
    private let nextLoop = Atomic<Int>(0)
    private let calls = Mutex<[String: RelayedCall]>([:])
    private let ended = Mutex(MediaTotals())
    private static let bindAttempts = 8

    /// - Parameters:
    ///   - loops: the relay's own event loops.
    ///   - keySource: a cryptographic random generator for the keys the edge originates.
    ///   - events: called on the call's loop for telephone events, timeouts and latching.
    public init(
        settings: MediaRelaySettings, loops: [any EventLoop], sockets: any MediaSocketFactory,
        keySource: @escaping @Sendable (Int) throws -> [UInt8], logger: Logger,
        events: @escaping @Sendable (MediaEvent) -> Void
    ) {
        precondition(!loops.isEmpty, "the relay needs an event loop")
        self.settings = settings
        self.pool = MediaPortPool(range: settings.ports, quarantine: settings.quarantine)
        self.loops = loops
        self.rings = loops.map { NIOLoopBoundBox.makeEmptyBox(valueType: OutputRing.self, eventLoop: $0) }
        self.sockets = sockets
        self.keySource = keySource
        self.logger = logger
        self.events = events
    }

    public var activeCalls: Int { calls.withLock { $0.count } }

    /// What the calls that have ended carried, for metrics.
    public var endedTotals: MediaTotals { ended.withLock { $0 } }

    public func call(_ callID: String) -> RelayedCall? { calls.withLock { $0[callID] } }

    /// Binds `legs` port pairs for a new call. The legs carry nothing until `update(leg:_:)`.
    public func allocate(callID: String, legs count: Int) async throws -> RelayedCall {
        precondition(count >= 2, "a relayed call has at least two legs")
        let index = nextLoop.add(1, ordering: .relaxed).oldValue % loops.count
        let loop = loops[index]
        let ringBox = rings[index]
        let settings = self.settings
        let keySource = self.keySource
        let events = self.events
        let state = try await loop.submit {
            if ringBox.value == nil { ringBox.value = OutputRing() }
            let state = RelayedCallState(
                callID: callID, eventLoop: loop, settings: settings, ring: ringBox.value!, keySource: keySource, events: events)
            return NIOLoopBound(state, eventLoop: loop)
        }.get()
        var bound: [(MediaPortPool.Pair, any Channel, any Channel)] = []
        do {
            for leg in 0..<count {
                bound.append(try await bindPair(leg: leg, state: state, on: loop))
            }
        } catch {
            for (pair, rtp, rtcp) in bound {
                _ = try? await rtp.close().get()
                _ = try? await rtcp.close().get()
                pool.release(pair)
            }
            throw error
        }
        let legs = bound
        try await loop.submit {
            let now = NIODeadline.now()
            for (index, (pair, rtp, rtcp)) in legs.enumerated() {
                let leg = RelayLeg(index: index, ports: pair, now: now)
                leg.rtpChannel = rtp
                leg.rtcpChannel = rtcp
                state.value.add(leg)
            }
        }.get()
        let call = RelayedCall(callID: callID, ports: legs.map { $0.0.rtp }, state: state, relay: self)
        calls.withLock { $0[callID] = call }
        return call
    }

    private func bindPair(leg: Int, state: NIOLoopBound<RelayedCallState>, on loop: any EventLoop) async throws
        -> (MediaPortPool.Pair, any Channel, any Channel)
    {
        var refused: Set<Int> = []
        var lastError = ""
        for _ in 0..<Self.bindAttempts {
            guard let pair = pool.allocate(excluding: refused) else { throw MediaError.noPortsAvailable(range: settings.ports) }
            var rtp: (any Channel)?
            do {
                rtp = try await bind(port: pair.rtp, leg: leg, rtcp: false, state: state, on: loop)
                let rtcp = try await bind(port: pair.rtcp, leg: leg, rtcp: true, state: state, on: loop)
                return (pair, rtp!, rtcp)
            } catch {
                _ = try? await rtp?.close().get()
                pool.release(pair)
                refused.insert(pair.rtp)
                lastError = "\(error)"
                logger.debug("media port pair unavailable", metadata: ["port": "\(pair.rtp)", "error": "\(error)"])
            }
        }
        throw MediaError.bindFailed(attempts: Self.bindAttempts, reason: lastError)
    }

    private func bind(port: Int, leg: Int, rtcp: Bool, state: NIOLoopBound<RelayedCallState>, on loop: any EventLoop) async throws
        -> any Channel
    {
        try await sockets.bindUDP(host: settings.bindHost, port: port, on: loop) { channel in
            do {
                try channel.pipeline.syncOperations.addHandler(MediaSocketHandler(call: state.value, leg: leg, isRTCPSocket: rtcp))
                return channel.eventLoop.makeSucceededVoidFuture()
            } catch {
                return channel.eventLoop.makeFailedFuture(error)
            }
        }.get()
    }

    func released(_ call: RelayedCall, ports: [Int], final: MediaCallStatistics?) {
        if let final { ended.withLock { $0.add(final) } }
        calls.withLock { calls in
            if calls[call.callID] === call { calls[call.callID] = nil }
        }
        for port in ports { pool.release(MediaPortPool.Pair(rtp: port)) }
    }

    /// Every call's statistics, for `show media` and metrics.
    public func statistics() async -> [MediaCallStatistics] {
        // Asked of every call at once and awaited as one: one by one, each answer is a hop back
        // to a cooperative pool that a loaded edge keeps busy (200 calls took 11 s that way).
        let pending = calls.withLock { Array($0.values) }.map { $0.statisticsFuture() }
        guard let loop = pending.first?.eventLoop else { return [] }
        let results = (try? await EventLoopFuture.whenAllComplete(pending, on: loop).get()) ?? []
        return results.compactMap { try? $0.get() }.sorted { $0.callID < $1.callID }
    }
}

/// One call's media, as the call layer holds it.
public final class RelayedCall: Sendable {
    public let callID: String
    /// The relay's RTP port on each leg (RTCP on the next port).
    public let ports: [Int]
    private let state: NIOLoopBound<RelayedCallState>
    private let relay: RTPRelay
    private let releasedFlag = Atomic<Bool>(false)

    init(callID: String, ports: [Int], state: NIOLoopBound<RelayedCallState>, relay: RTPRelay) {
        self.callID = callID
        self.ports = ports
        self.state = state
        self.relay = relay
    }

    public var eventLoop: any EventLoop { state.eventLoop }

    /// Applies a leg's new offer or answer; returns what the edge's SDP for that leg must say.
    public func update(leg: Int, _ parameters: MediaLegParameters) async throws -> MediaLegLocal {
        let state = self.state
        return try await state.eventLoop.submit { try state.value.update(leg: leg, parameters) }.get()
    }

    public func setDirection(leg: Int, _ direction: MediaDirection) async throws {
        let state = self.state
        try await state.eventLoop.submit { try state.value.setDirection(leg: leg, direction) }.get()
    }

    /// The call was answered: media timeouts start now.
    public func answered() async throws {
        let state = self.state
        try await state.eventLoop.submit { state.value.answered() }.get()
    }

    /// Sends an RFC 4733 telephone event (0–9, 10 `*`, 11 `#`, 12–15 A–D, 16 flash) to `leg`'s peer.
    public func sendTelephoneEvent(leg: Int, event: UInt8, duration: Duration) async throws {
        let state = self.state
        try await state.eventLoop.submit { try state.value.sendTelephoneEvent(leg: leg, event: event, duration: duration) }.get()
    }

    public func statistics() async throws -> MediaCallStatistics {
        try await statisticsFuture().get()
    }

    func statisticsFuture() -> EventLoopFuture<MediaCallStatistics> {
        let state = self.state
        return state.eventLoop.submit { state.value.statistics() }
    }

    /// Closes the call's sockets and returns its ports to the pool (after the quarantine).
    public func release() async {
        guard !releasedFlag.exchange(true, ordering: .relaxed) else { return }
        let state = self.state
        // Closing can only fail for a socket already closed, which is what was asked.
        let final = try? await state.eventLoop.flatSubmit {
            let final = state.value.statistics()
            return state.value.release().map { final }
        }.get()
        relay.released(self, ports: ports, final: final)
    }
}
