import Foundation
import NIOCore
import SIP
import NIOPosix
import PKI
import SIPTransport
import TLS

/// How the generator reaches the registrar under test.
public enum RegisterLoadTransport: String, Sendable, CaseIterable {
    case udp
    /// One mutual-TLS connection carries every REGISTER.
    case tls
}

/// What one run of the generator measured.
public struct RegisterLoadResult: Sendable, CustomStringConvertible {
    public let transport: RegisterLoadTransport
    /// REGISTERs sent: the requested number, or fewer when the time limit stopped the run.
    public let requests: Int
    /// Final responses 200, the only answer a registrar that saved the binding gives.
    public let succeeded: Int
    /// Every other final response (a 401 the generator does not answer, any 4xx–6xx, and a 2xx
    /// other than 200), by status code: a misconfigured registrar cannot look fast.
    public let failedByStatus: [Int: Int]
    /// Requests that got no final response within the request timeout.
    public let timedOut: Int
    /// From the first request sent to the last final response (or timeout).
    public let elapsed: Duration
    /// Whether the time limit stopped sending before `requests` reached the planned number.
    public let timeLimited: Bool
    /// Latencies of the answered requests, sorted, in nanoseconds.
    let latencies: [UInt64]

    public var failures: Int { failedByStatus.values.reduce(0, +) + timedOut }

    public var perSecond: Double {
        let seconds = elapsed / .seconds(1)
        return seconds > 0 ? Double(succeeded) / seconds : 0
    }

    /// The latency below which `fraction` of the answered requests fall.
    public func latency(percentile fraction: Double) -> Duration {
        BenchmarkFormat.percentile(fraction, ofSorted: latencies)
    }

    public var description: String {
        let failures = failedByStatus.isEmpty && timedOut == 0
            ? "0 failures"
            : "\(self.failures) failures (" + (failedByStatus.sorted { $0.key < $1.key }.map { "\($0.value)× \($0.key)" } + (timedOut > 0 ? ["\(timedOut) timed out"] : [])).joined(separator: ", ") + ")"
        return "\(BenchmarkFormat.rate(perSecond)) REGISTER/s, p50 \(Self.milliseconds(latency(percentile: 0.5))), p99 \(Self.milliseconds(latency(percentile: 0.99))), \(succeeded)/\(requests) answered 200\(timeLimited ? " (time limit)" : ""), \(failures)"
    }

    static func milliseconds(_ duration: Duration) -> String {
        String(format: "%.2f ms", duration / .milliseconds(1))
    }
}

/// A SIP REGISTER load generator: keeps `window` REGISTERs outstanding, each for a different user
/// of `users` (so no AOR ever has two in flight and CSeqs stay in order), with or without digest,
/// over UDP or over one TLS connection; matches responses by Call-ID and CSeq and records each
/// request's latency. One event loop thread, so it leaves the other core to the registrar.
/// With a `timeLimit`, no request is sent after it has passed, and the run ends once those in
/// flight are answered: a slow registrar costs bounded time, and its rate is still measured.
public enum RegisterLoadGenerator {
    public static func run(
        target: SocketAddress, transport: RegisterLoadTransport, tlsContext: TLSContext? = nil,
        users: Int, requests: Int, window: Int, requestTimeout: Duration = .seconds(5), domain: String = "bench.test",
        digestPassword: String? = nil, timeLimit: Duration? = nil
    ) async throws -> RegisterLoadResult {
        guard users >= window, window > 0, requests > 0 else {
            throw BenchmarkError(reason: "register load needs users (\(users)) ≥ window (\(window)) > 0 and requests > 0")
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            let result = try await drive(
                group: group, target: target, transport: transport, tlsContext: tlsContext, users: users, requests: requests,
                window: window, requestTimeout: requestTimeout, domain: domain, digestPassword: digestPassword, timeLimit: timeLimit)
            try await group.shutdownGracefully()
            return result
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    private static func drive(
        group: MultiThreadedEventLoopGroup, target: SocketAddress, transport: RegisterLoadTransport, tlsContext: TLSContext?,
        users: Int, requests: Int, window: Int, requestTimeout: Duration, domain: String, digestPassword: String?, timeLimit: Duration?
    ) async throws -> RegisterLoadResult {
        let promise = group.next().makePromise(of: RegisterLoadResult.self)
        let plan = RegisterLoadPlan(
            transport: transport, target: target, users: users, requests: requests, window: window,
            requestTimeout: requestTimeout, domain: domain, runTag: String(UInt32.random(in: 0...UInt32.max), radix: 36),
            digestPassword: digestPassword, timeLimit: timeLimit)
        let channel: any Channel
        switch transport {
        case .udp:
            channel = try await DatagramBootstrap(group: group)
                .channelOption(.socketOption(.so_rcvbuf), value: 4 << 20)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(DatagramToBytes(remote: target))
                        try channel.pipeline.syncOperations.addHandler(RegisterLoadDriver(plan: plan, startsAfterHandshake: false, result: promise))
                    }
                }
                .bind(host: target.ipAddress?.contains(":") == true ? "::" : "0.0.0.0", port: 0).get()
        case .tls:
            guard let tlsContext else { throw BenchmarkError(reason: "register load over TLS needs a client TLS context") }
            channel = try await ClientBootstrap(group: group)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(TLSHandler(context: tlsContext))
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(SIPStreamFramer()))
                        try channel.pipeline.syncOperations.addHandler(StreamFramesToBytes())
                        try channel.pipeline.syncOperations.addHandler(RegisterLoadDriver(plan: plan, startsAfterHandshake: true, result: promise))
                    }
                }
                .connect(to: target).get()
        }
        channel.closeFuture.whenComplete { _ in
            promise.fail(BenchmarkError(reason: "the \(transport) channel to \(target) closed before the run finished"))
        }
        if transport == .udp {
            channel.eventLoop.execute { channel.pipeline.fireUserInboundEventTriggered(RegisterLoadDriver.Start()) }
        }
        let result = try await promise.futureResult.get()
        try? await channel.close()
        return result
    }
}

struct RegisterLoadPlan: Sendable {
    let transport: RegisterLoadTransport
    let target: SocketAddress
    let users: Int
    let requests: Int
    let window: Int
    let requestTimeout: Duration
    let domain: String
    /// Sets this run's Call-IDs apart from any earlier run against the same registrar.
    let runTag: String
    /// With a password, each user (`bench<N>`, its own username) answers the first challenge and
    /// then sends credentials up front with a growing nonce count, as phones do.
    let digestPassword: String?
    /// No request is sent once this much time has passed since the first.
    let timeLimit: Duration?
}

/// Lets the driver read and write plain buffers on a datagram channel.
final class DatagramToBytes: ChannelDuplexHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>
    let remote: SocketAddress

    init(remote: SocketAddress) { self.remote = remote }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(wrapInboundOut(unwrapInboundIn(data).data))
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        context.write(wrapOutboundOut(AddressedEnvelope(remoteAddress: remote, data: unwrapOutboundIn(data))), promise: promise)
    }
}

/// Passes whole messages of a stream on; keep-alive pings need no answer from a client.
final class StreamFramesToBytes: ChannelInboundHandler {
    typealias InboundIn = SIPStreamFrame
    typealias InboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .message(let message) = unwrapInboundIn(data) { context.fireChannelRead(wrapInboundOut(message)) }
    }
}

/// The generator's state, confined to the channel's event loop.
final class RegisterLoadDriver: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    struct Start {}

    private struct InFlight {
        var cseq: UInt32
        let sentAt: UInt64
        var carriedCredentials: Bool
    }

    private let plan: RegisterLoadPlan
    /// The user agent's digests, through OpenSSL like the registrar's.
    private let hashing = OpenSSLDigests.hashing(fipsMode: false)
    private let startsAfterHandshake: Bool
    private let result: EventLoopPromise<RegisterLoadResult>
    private var inFlight: [InFlight?]
    private var nextCSeq: [UInt32]
    /// Users with nothing in flight, oldest first.
    private var idleUsers: [Int]
    private var idleHead = 0
    private var sent = 0
    private var succeeded = 0
    private var failedByStatus: [Int: Int] = [:]
    private var timedOut = 0
    private var latencies: [UInt64] = []
    private var startedAt: UInt64 = 0
    private var started = false
    private var finished = false
    private var viaHost = "127.0.0.1:5060"
    private var sweep: RepeatedTask?
    /// The uptime after which nothing more is sent.
    private var sendDeadline = UInt64.max
    private var timeLimited = false
    private var challenges: [DigestChallenge?]
    private var nonceCounts: [UInt32]

    init(plan: RegisterLoadPlan, startsAfterHandshake: Bool, result: EventLoopPromise<RegisterLoadResult>) {
        self.plan = plan
        self.startsAfterHandshake = startsAfterHandshake
        self.result = result
        inFlight = Array(repeating: nil, count: plan.users)
        nextCSeq = Array(repeating: 1, count: plan.users)
        idleUsers = Array(0..<plan.users)
        challenges = Array(repeating: nil, count: plan.digestPassword == nil ? 0 : plan.users)
        nonceCounts = Array(repeating: 0, count: plan.digestPassword == nil ? 0 : plan.users)
        latencies.reserveCapacity(plan.requests)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is Start || (startsAfterHandshake && event is TLSHandshakeCompleted) { start(context) }
        context.fireUserInboundEventTriggered(event)
    }

    private func start(_ context: ChannelHandlerContext) {
        guard !started else { return }
        started = true
        if let local = context.channel.localAddress, let ip = local.ipAddress, let port = local.port {
            let host = ip == "0.0.0.0" || ip == "::" ? "127.0.0.1" : ip
            viaHost = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        }
        startedAt = DispatchTime.now().uptimeNanoseconds
        let timeout = Self.nanoseconds(plan.requestTimeout)
        if let limit = plan.timeLimit { sendDeadline = startedAt + Self.nanoseconds(limit) }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        sweep = context.eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(100), delay: .milliseconds(100)) { _ in
            let (driver, context) = loopBound.value
            driver.expire(olderThan: timeout, context)
        }
        for _ in 0..<min(plan.window, plan.requests) { sendNext(context) }
        context.flush()
    }

    private static func nanoseconds(_ duration: Duration) -> UInt64 {
        UInt64(duration.components.seconds) * 1_000_000_000 + UInt64(duration.components.attoseconds / 1_000_000_000)
    }

    private func sendNext(_ context: ChannelHandlerContext) {
        guard sent < plan.requests, idleHead < idleUsers.count else { return }
        if !timeLimited, DispatchTime.now().uptimeNanoseconds > sendDeadline { timeLimited = true }
        guard !timeLimited else { return }
        let user = idleUsers[idleHead]
        idleHead += 1
        if idleHead > 4096, idleHead * 2 > idleUsers.count {
            idleUsers.removeFirst(idleHead)
            idleHead = 0
        }
        sent += 1
        send(user, sentAt: DispatchTime.now().uptimeNanoseconds, context)
    }

    /// Sends the user's next REGISTER (a new one, or the answer to a challenge with `sentAt` kept).
    private func send(_ user: Int, sentAt: UInt64, _ context: ChannelHandlerContext) {
        let cseq = nextCSeq[user]
        nextCSeq[user] = cseq &+ 1
        let authorization = credentials(for: user)
        inFlight[user] = InFlight(cseq: cseq, sentAt: sentAt, carriedCredentials: authorization != nil)
        context.write(
            wrapOutboundOut(request(user: user, cseq: cseq, authorization: authorization, allocator: context.channel.allocator)), promise: nil)
    }

    private func credentials(for user: Int) -> String? {
        guard let password = plan.digestPassword, let challenge = challenges[user] else { return nil }
        nonceCounts[user] += 1
        // A challenge in an algorithm OpenSSL refuses goes unanswered (and is counted as the failure it is).
        let answer = try? DigestCredentials.answering(
            challenge, username: "bench\(user)", password: password, method: "REGISTER", uri: "sip:\(plan.domain)", cnonce: plan.runTag,
            nonceCount: nonceCounts[user], using: hashing)
        return answer?.description
    }

    private func request(user: Int, cseq: UInt32, authorization: String?, allocator: ByteBufferAllocator) -> ByteBuffer {
        let transport = plan.transport == .udp ? "UDP" : "TLS"
        let name = "bench\(user)"
        let text = "REGISTER sip:\(plan.domain) SIP/2.0\r\n"
            + "Via: SIP/2.0/\(transport) \(viaHost);branch=z9hG4bK\(plan.runTag)-\(user)-\(cseq);rport\r\n"
            + "Max-Forwards: 70\r\n"
            + "From: <sip:\(name)@\(plan.domain)>;tag=\(plan.runTag)\(user)\r\n"
            + "To: <sip:\(name)@\(plan.domain)>\r\n"
            + "Call-ID: \(plan.runTag)-\(user)\r\n"
            + "CSeq: \(cseq) REGISTER\r\n"
            + "Contact: <sip:\(name)@\(viaHost);transport=\(plan.transport.rawValue)>\r\n"
            + "Expires: 3600\r\n"
            + (authorization.map { "Authorization: \($0)\r\n" } ?? "")
            + "User-Agent: outpost-bench\r\n"
            + "Content-Length: 0\r\n\r\n"
        var buffer = allocator.buffer(capacity: text.utf8.count)
        buffer.writeString(text)
        return buffer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard started, !finished else { return }
        let response = unwrapInboundIn(data)
        guard let parsed = RegisterResponseScan(response), parsed.status >= 200,
              parsed.user < plan.users, let flight = inFlight[parsed.user], flight.cseq == parsed.cseq else { return }
        if parsed.status == 401, plan.digestPassword != nil, let challenge = Self.challenge(in: response),
            !flight.carriedCredentials || challenge.stale
        {
            challenges[parsed.user] = challenge
            nonceCounts[parsed.user] = 0
            send(parsed.user, sentAt: flight.sentAt, context)
            return
        }
        inFlight[parsed.user] = nil
        idleUsers.append(parsed.user)
        if parsed.status == 200 {
            succeeded += 1
            latencies.append(DispatchTime.now().uptimeNanoseconds &- flight.sentAt)
        } else {
            failedByStatus[parsed.status, default: 0] += 1
        }
        sendNext(context)
        finishIfDone()
    }

    private static func challenge(in buffer: ByteBuffer) -> DigestChallenge? {
        let message = try? SIPMessage(parsing: Array(buffer.readableBytesView))
        return (try? message?.response?.headers.digestChallenges())?.first { $0.effectiveAlgorithm == .md5 }
            ?? (try? message?.response?.headers.digestChallenges())?.first
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
        context.fireChannelReadComplete()
    }

    private func expire(olderThan timeout: UInt64, _ context: ChannelHandlerContext) {
        guard !finished else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        for user in inFlight.indices {
            guard let flight = inFlight[user], now &- flight.sentAt > timeout else { continue }
            inFlight[user] = nil
            idleUsers.append(user)
            timedOut += 1
            sendNext(context)
        }
        context.flush()
        finishIfDone()
    }

    private func finishIfDone() {
        let answered = succeeded + timedOut + failedByStatus.values.reduce(0, +)
        guard answered == (timeLimited ? sent : plan.requests), !finished else { return }
        finished = true
        sweep?.cancel()
        latencies.sort()
        result.succeed(RegisterLoadResult(
            transport: plan.transport, requests: sent, succeeded: succeeded, failedByStatus: failedByStatus,
            timedOut: timedOut, elapsed: .nanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - startedAt)), timeLimited: timeLimited,
            latencies: latencies))
    }
}

/// The three things the generator needs from a response, read without a full parse: the status
/// code, the user index at the end of the Call-ID, and the CSeq number.
struct RegisterResponseScan {
    let status: Int
    let user: Int
    let cseq: UInt32

    init?(_ buffer: ByteBuffer) {
        let bytes = buffer.readableBytesView
        // "SIP/2.0 200 "
        guard bytes.count > 12, bytes.starts(with: "SIP/2.0 ".utf8) else { return nil }
        var index = bytes.startIndex + 8
        guard let status = Self.number(bytes, &index) else { return nil }
        var user: Int?
        var cseq: Int?
        while let lineEnd = bytes[index...].firstIndex(of: 0x0A) {
            let line = bytes[(lineEnd + 1)...]
            index = lineEnd + 1
            if Self.hasName(line, "call-id") || Self.hasName(line, "i") {
                // The user index follows the last '-' of the Call-ID value.
                guard let end = line.firstIndex(of: 0x0D), let dash = line[..<end].lastIndex(of: UInt8(ascii: "-")) else { return nil }
                var digits = dash + 1
                user = Self.number(bytes, &digits)
            } else if Self.hasName(line, "cseq") {
                guard var colon = line.firstIndex(of: UInt8(ascii: ":")) else { return nil }
                colon += 1
                while colon < bytes.endIndex, bytes[colon] == 0x20 { colon += 1 }
                cseq = Self.number(bytes, &colon)
            }
            if user != nil, cseq != nil { break }
        }
        guard let user, let cseq, let value = UInt32(exactly: cseq) else { return nil }
        self.status = status
        self.user = user
        self.cseq = value
    }

    private static func hasName(_ line: ByteBufferView.SubSequence, _ name: String) -> Bool {
        var index = line.startIndex
        for expected in name.utf8 {
            guard index < line.endIndex, line[index] | 0x20 == expected else { return false }
            index += 1
        }
        while index < line.endIndex, line[index] == 0x20 || line[index] == 0x09 { index += 1 }
        return index < line.endIndex && line[index] == UInt8(ascii: ":")
    }

    private static func number(_ bytes: ByteBufferView, _ index: inout Int) -> Int? {
        var value = 0
        var digits = 0
        while index < bytes.endIndex, bytes[index] >= 0x30, bytes[index] <= 0x39, digits < 10 {
            value = value * 10 + Int(bytes[index] - 0x30)
            index += 1
            digits += 1
        }
        return digits > 0 ? value : nil
    }
}
