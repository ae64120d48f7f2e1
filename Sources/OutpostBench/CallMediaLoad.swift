import Foundation
import PKI
import SRTP

#if canImport(Glibc)
import Glibc
#endif

/// The media of `outpost bench calls`' concurrent-call figure: for every established call, a
/// 20 ms stream each way (12-byte RTP header, 160 bytes of PCMU, 50 packets/s), SRTP-protected
/// with the sending phone's own key through the project's libsrtp wrapper and, on arrival,
/// authenticated and decrypted with the key the relay announced to the receiving phone. All
/// callers share one socket and all callees another (the relay tells the streams apart by its own
/// port per leg, and so does the generator by the relay's source port), so one thread paces every
/// stream: each millisecond it sends a twentieth of them. Each packet carries its index in the
/// encrypted payload; a stream is whole when every index sent in the measurement window arrived.
final class CallMediaLoad: @unchecked Sendable {
    struct Totals: Sendable {
        var streams = 0
        var sent = 0
        var received = 0
        /// Streams with at least one packet of the window missing.
        var lossyStreams = 0
        /// Packets that failed authentication or replay checks, or came from no relay port a stream uses.
        var rejected = 0
        var unknownSource = 0
        /// The measurement window's length, for the rate each stream was really sent at.
        var windowSeconds = 0.0
        var lost: Int { max(0, sent - received) }
        /// Packets per second each stream was sent at in the window (50 when the generator kept up).
        var packetsPerStreamSecond: Double { streams > 0 && windowSeconds > 0 ? Double(sent) / Double(streams) / windowSeconds : 0 }
        /// Whether the generator sent at least 95% of 50 packets/s per stream: a step it could not
        /// pace measures the generator, not the relay.
        var paced: Bool { packetsPerStreamSecond >= 47.5 }
        var whole: Bool { streams > 0 && lossyStreams == 0 && rejected == 0 && sent > 0 }
    }

    private struct Stream {
        let socket: Int
        var destination: sockaddr_in
        let outbound: SRTPSession
        let inbound: SRTPSession
        let ssrc: UInt32
        var next: UInt32 = 0
        var firstInWindow: UInt32?
        var lastInWindow: UInt32?
        var receivedInWindow = 0
    }

    /// The callers' socket (0) and the callees' socket (1), bound on 127.0.0.1.
    private var descriptors: [Int32] = []
    let callerPort: Int
    let calleePort: Int
    private var streams: [Stream] = []
    /// By receiving socket, the stream whose relay port is the source port.
    private var bySource: [[Int32]] = [Array(repeating: -1, count: 65_536), Array(repeating: -1, count: 65_536)]
    private var rejected = 0
    private var unknownSource = 0

    init() throws {
        for _ in 0..<2 {
            let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            guard descriptor >= 0 else { throw BenchmarkError(reason: "socket: errno \(errno)") }
            descriptors.append(descriptor)
            var size: Int32 = 4 << 20
            // As root the buffers may exceed net.core.rmem_max; otherwise they are capped at it.
            if setsockopt(descriptor, SOL_SOCKET, Self.receiveBufferForce, &size, 4) != 0 {
                setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, 4)
            }
            if setsockopt(descriptor, SOL_SOCKET, Self.sendBufferForce, &size, 4) != 0 {
                setsockopt(descriptor, SOL_SOCKET, SO_SNDBUF, &size, 4)
            }
            var address = Self.address(port: 0)
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0 }
            }
            guard bound else {
                descriptors.forEach { close($0) }
                throw BenchmarkError(reason: "bind 127.0.0.1: errno \(errno)")
            }
            _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        }
        callerPort = Self.port(of: descriptors[0])
        calleePort = Self.port(of: descriptors[1])
    }

    deinit { descriptors.forEach { close($0) } }

    /// A plan per call: both phones on the shared sockets, each with a fresh key.
    func plans(_ count: Int) throws -> [CallMediaPlan] {
        try (0..<count).map { _ in
            CallMediaPlan(callerPort: callerPort, calleePort: calleePort, callerKey: try SecureRandom.bytes(30), calleeKey: try SecureRandom.bytes(30))
        }
    }

    /// Streams for `calls`: the caller's toward the relay's caller-facing port, received at the
    /// callee from the relay's callee-facing port, and the other way round.
    func prepare(_ calls: [EstablishedCallMedia]) throws {
        streams = []
        bySource = [Array(repeating: -1, count: 65_536), Array(repeating: -1, count: 65_536)]
        for call in calls {
            guard let callerKey = call.plan.callerKey, let calleeKey = call.plan.calleeKey, let towardCaller = call.relayTowardCaller.key,
                let towardCallee = call.relayTowardCallee.key
            else { throw BenchmarkError(reason: "a call's SDP carried no AES_CM_128_HMAC_SHA1_80 key") }
            guard towardCallee != callerKey, towardCaller != calleeKey else {
                throw BenchmarkError(reason: "the relay passed a phone's own key on: SRTP was not terminated and re-keyed")
            }
            let callerLeg = call.relayTowardCaller.port
            let calleeLeg = call.relayTowardCallee.port
            guard (1...65_535).contains(callerLeg), (1...65_535).contains(calleeLeg) else {
                throw BenchmarkError(reason: "a call's SDP named no relay port")
            }
            let suite = SRTPSuite.aesCM128HMACSHA1_80
            guard let calleeSuite = SRTPSuite(sdpName: call.calleeSuite) else { throw BenchmarkError(reason: "no suite \(call.calleeSuite)") }
            // Caller → callee: sent on socket 0 to the caller leg, received on socket 1 from the callee leg.
            bySource[1][calleeLeg] = Int32(streams.count)
            streams.append(Stream(
                socket: 0, destination: Self.address(port: callerLeg),
                outbound: try SRTPSession(suite: suite, masterKeyAndSalt: callerKey, direction: .outbound),
                inbound: try SRTPSession(suite: calleeSuite, masterKeyAndSalt: towardCallee, direction: .inbound, replayWindowSize: 1_024),
                ssrc: 0x0B00_0000 | UInt32(streams.count)))
            bySource[0][callerLeg] = Int32(streams.count)
            streams.append(Stream(
                socket: 1, destination: Self.address(port: calleeLeg),
                outbound: try SRTPSession(suite: calleeSuite, masterKeyAndSalt: calleeKey, direction: .outbound),
                inbound: try SRTPSession(suite: suite, masterKeyAndSalt: towardCaller, direction: .inbound, replayWindowSize: 1_024),
                ssrc: 0x0B00_0000 | UInt32(streams.count)))
        }
        rejected = 0
        unknownSource = 0
    }

    /// Streams for `warmUp` (not counted), then for `window` (counted), then waits `drain` for the
    /// last packets. Blocks its own thread; call from a detached context.
    func run(warmUp: Duration, window: Duration, drain: Duration = .milliseconds(300)) async -> Totals {
        await withCheckedContinuation { continuation in
            let thread = Thread { [self] in
                continuation.resume(returning: self.pace(warmUp: warmUp, window: window, drain: drain))
            }
            thread.name = "bench-calls-media"
            thread.start()
        }
    }

    private func pace(warmUp: Duration, window: Duration, drain: Duration) -> Totals {
        let tick: UInt64 = 1_000_000
        let slices = 20
        let start = Self.now()
        let windowStart = start + UInt64(warmUp / .nanoseconds(1))
        let windowEnd = windowStart + UInt64(window / .nanoseconds(1))
        let end = windowEnd + UInt64(drain / .nanoseconds(1))
        var nextTick = start
        var tickCount = 0
        var inWindow = false
        var sending = true
        let packet = UnsafeMutableRawBufferPointer.allocate(byteCount: 2_048, alignment: 16)
        defer { packet.deallocate() }
        var polls = descriptors.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        while true {
            let now = Self.now()
            if now >= end { break }
            if sending, now >= nextTick {
                if !inWindow, now >= windowStart {
                    inWindow = true
                    for index in streams.indices { streams[index].firstInWindow = streams[index].next }
                }
                if now >= windowEnd {
                    sending = false
                    for index in streams.indices { streams[index].lastInWindow = streams[index].next &- 1 }
                } else {
                    var index = tickCount % slices
                    while index < streams.count {
                        send(index, packet)
                        index += slices
                    }
                    tickCount += 1
                    nextTick += tick
                }
            }
            let wait = sending ? (nextTick > now ? Int32((nextTick - now) / tick) : 0) : 5
            _ = poll(&polls, nfds_t(polls.count), min(wait, 5))
            for socket in 0..<descriptors.count { receiveAll(socket, packet) }
        }
        var totals = Totals(streams: streams.count, rejected: rejected, unknownSource: unknownSource, windowSeconds: window / .seconds(1))
        for stream in streams {
            guard let first = stream.firstInWindow, let last = stream.lastInWindow, last &+ 1 >= first else { continue }
            let sent = Int(last &+ 1 &- first)
            totals.sent += sent
            totals.received += min(sent, stream.receivedInWindow)
            if stream.receivedInWindow < sent { totals.lossyStreams += 1 }
        }
        return totals
    }

    private func send(_ index: Int, _ packet: UnsafeMutableRawBufferPointer) {
        let sequence = streams[index].next
        streams[index].next = sequence &+ 1
        let ssrc = streams[index].ssrc
        packet[0] = 0x80
        packet[1] = 0
        packet.storeBytes(of: UInt16(truncatingIfNeeded: sequence).bigEndian, toByteOffset: 2, as: UInt16.self)
        packet.storeBytes(of: (sequence &* 160).bigEndian, toByteOffset: 4, as: UInt32.self)
        packet.storeBytes(of: ssrc.bigEndian, toByteOffset: 8, as: UInt32.self)
        packet.storeBytes(of: sequence.bigEndian, toByteOffset: 12, as: UInt32.self)
        for offset in 16..<172 { packet[offset] = 0xFF }
        guard let length = try? streams[index].outbound.protectRTP(in: packet, length: 172) else { return }
        var destination = streams[index].destination
        _ = withUnsafePointer(to: &destination) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(descriptors[streams[index].socket], packet.baseAddress, length, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }

    private func receiveAll(_ socket: Int, _ packet: UnsafeMutableRawBufferPointer) {
        var source = sockaddr_in()
        while true {
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let received = withUnsafeMutablePointer(to: &source) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    recvfrom(descriptors[socket], packet.baseAddress, packet.count, Int32(MSG_DONTWAIT), $0, &length)
                }
            }
            guard received > 0 else { return }
            let index = Int(bySource[socket][Int(UInt16(bigEndian: source.sin_port))])
            guard index >= 0 else {
                unknownSource += 1
                continue
            }
            guard let plain = try? streams[index].inbound.unprotectRTP(in: packet, length: received), plain >= 16 else {
                rejected += 1
                continue
            }
            let sequence = UInt32(bigEndian: packet.loadUnaligned(fromByteOffset: 12, as: UInt32.self))
            if let first = streams[index].firstInWindow, sequence >= first, streams[index].lastInWindow.map({ sequence <= $0 }) ?? true {
                streams[index].receivedInWindow += 1
            }
        }
    }

    /// SO_RCVBUFFORCE and SO_SNDBUFFORCE (asm-generic/socket.h), which the Glibc module leaves out.
    private static let receiveBufferForce: Int32 = 33
    private static let sendBufferForce: Int32 = 32

    private static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    private static func address(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    private static func port(of descriptor: Int32) -> Int {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
