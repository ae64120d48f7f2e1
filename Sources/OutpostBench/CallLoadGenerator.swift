import Foundation
import NIOCore
import NIOPosix
import PKI
import SIP
import SIPTransport
import TLS

/// How the call generator's phones reach the edge or proxy under test.
public enum CallLoadTransport: String, Sendable {
    /// A UDP socket per phone, each registered with digest from its own address.
    case udp
    /// One mutual-TLS connection carrying every phone's lines (the bench certificate's device).
    case tls
}

/// The media a call's SDP carries: where each phone receives RTP, and with SRTP each phone's
/// own SDES key (AES_CM_128_HMAC_SHA1_80) and the key the relay put in the SDP it sent that phone.
public struct CallMediaPlan: Sendable {
    /// The caller's and the callee's RTP ports on 127.0.0.1.
    public var callerPort: Int
    public var calleePort: Int
    /// The phones' own keys (30 bytes); nil: plain RTP/AVP.
    public var callerKey: [UInt8]?
    public var calleeKey: [UInt8]?

    public init(callerPort: Int, calleePort: Int, callerKey: [UInt8]? = nil, calleeKey: [UInt8]? = nil) {
        self.callerPort = callerPort
        self.calleePort = calleePort
        self.callerKey = callerKey
        self.calleeKey = calleeKey
    }
}

/// What the relay told each phone of an established call: the address it receives that phone's
/// RTP on and, with SRTP, the key it sends that phone's media with.
public struct EstablishedCallMedia: Sendable {
    public var plan: CallMediaPlan
    /// From the 2xx the caller received.
    public var relayTowardCaller: (host: String, port: Int, key: [UInt8]?)
    /// From the INVITE the callee received.
    public var relayTowardCallee: (host: String, port: Int, key: [UInt8]?)
    /// The suite of the callee's leg, both ways (the caller's is AES_CM_128_HMAC_SHA1_80).
    public var calleeSuite: String
}

/// What one timed run of calls measured.
public struct CallLoadResult: Sendable, CustomStringConvertible {
    /// INVITEs sent.
    public var attempted = 0
    /// Calls through every step: 200 to the INVITE, ACK, BYE answered 200 at the caller, and the
    /// BYE that reached the callee answered there.
    public var completed = 0
    /// Final responses other than 2xx to INVITE or BYE, by status.
    public var failedByStatus: [Int: Int] = [:]
    /// Calls not through every step within the call timeout.
    public var timedOut = 0
    /// Completed calls whose callee was offered another media address than the caller's: the
    /// edge or rtpengine anchored their media.
    public var anchored = 0
    public var elapsed: Duration = .zero
    /// Setup (INVITE to 200) latencies of completed calls, sorted, in nanoseconds.
    var setupLatencies: [UInt64] = []

    public var failures: Int { failedByStatus.values.reduce(0, +) + timedOut }

    public var perSecond: Double {
        let seconds = elapsed / .seconds(1)
        return seconds > 0 ? Double(completed) / seconds : 0
    }

    public func setupLatency(percentile fraction: Double) -> Duration {
        BenchmarkFormat.percentile(fraction, ofSorted: setupLatencies)
    }

    public var failureText: String {
        guard failures > 0 else { return "0 failures" }
        let parts = failedByStatus.sorted { $0.key < $1.key }.map { "\($0.value)× \($0.key)" } + (timedOut > 0 ? ["\(timedOut) timed out"] : [])
        return "\(failures) failures (\(parts.joined(separator: ", ")))"
    }

    public var description: String {
        "\(BenchmarkFormat.rate(perSecond)) calls/s, setup p50 \(RegisterLoadResult.milliseconds(setupLatency(percentile: 0.5))), "
            + "p99 \(RegisterLoadResult.milliseconds(setupLatency(percentile: 0.99))), \(completed)/\(attempted) completed, \(failureText)"
    }
}

/// A SIP call generator acting as `pairs` caller phones and as many callee phones: it registers
/// them all (digest over UDP), then caller `i` calls callee `i` with an SDP offer, the callee
/// rings and answers with SDP, the caller ACKs and hangs up at once (or, holding, keeps the call
/// until told). Messages are matched by Call-ID; the callee's half is found by the caller's number
/// in its From. One event-loop thread; its own small SIP text handling, not the edge's parser.
public final class CallLoadGenerator: @unchecked Sendable {
    public let transport: CallLoadTransport
    public let target: SocketAddress
    public let pairs: Int
    private let group: MultiThreadedEventLoopGroup
    private let driver: CallLoadDriver
    private var channels: [any Channel] = []

    /// Caller `i` is line `callerNumber(i)`, callee `i` line `calleeNumber(i)`.
    public static func callerNumber(_ index: Int) -> String { String(1_000_000 + index) }
    public static func calleeNumber(_ index: Int) -> String { String(2_000_000 + index) }
    public static let domain = "bench.test"

    /// Opens the phones' sockets (or the TLS connection) toward `target`.
    public init(
        target: SocketAddress, transport: CallLoadTransport, pairs: Int, tlsContext: TLSContext? = nil, digestPassword: String? = nil,
        callTimeout: Duration = .seconds(8)
    ) async throws {
        guard pairs > 0 else { throw BenchmarkError(reason: "the call generator needs at least one pair of phones") }
        self.transport = transport
        self.target = target
        self.pairs = pairs
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        driver = CallLoadDriver(
            loop: loop, transport: transport, pairs: pairs, digestPassword: digestPassword, callTimeout: callTimeout,
            runTag: String(UInt32.random(in: 0...UInt32.max), radix: 36))
        do {
            switch transport {
            case .udp:
                for phone in 0..<(2 * pairs) {
                    let driver = self.driver
                    let channel = try await DatagramBootstrap(group: loop)
                        .channelOption(.socketOption(.so_rcvbuf), value: 1 << 20)
                        .channelInitializer { channel in
                            channel.eventLoop.makeCompletedFuture {
                                try channel.pipeline.syncOperations.addHandler(DatagramToBytes(remote: target))
                                try channel.pipeline.syncOperations.addHandler(CallEndpointHandler(driver: driver, endpoint: phone))
                            }
                        }
                        .bind(host: "127.0.0.1", port: 0).get()
                    channels.append(channel)
                }
            case .tls:
                guard let tlsContext else { throw BenchmarkError(reason: "calls over TLS need a client TLS context") }
                let driver = self.driver
                let handshake = loop.makePromise(of: Void.self)
                let channel = try await ClientBootstrap(group: loop)
                    .channelOption(.socketOption(.tcp_nodelay), value: 1)
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(TLSHandler(context: tlsContext))
                            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(SIPStreamFramer()))
                            try channel.pipeline.syncOperations.addHandler(StreamFramesToBytes())
                            try channel.pipeline.syncOperations.addHandler(CallEndpointHandler(driver: driver, endpoint: 0, handshake: handshake))
                        }
                    }
                    .connect(to: target).get()
                channels.append(channel)
                try await handshake.futureResult.get()
            }
            let opened = channels
            try await loop.submit { self.driver.attach(opened) }.get()
        } catch {
            await close()
            throw error
        }
    }

    /// Registers every phone; throws unless each got its 200.
    public func registerAll(timeout: Duration = .seconds(20)) async throws {
        let promise = group.next().makePromise(of: Int.self)
        driver.loop.execute { self.driver.registerAll(promise) }
        let deadline = group.next().scheduleTask(in: .nanoseconds(Int64(timeout / .nanoseconds(1)))) {
            promise.fail(BenchmarkError(reason: "registration of \(2 * self.pairs) phones did not finish within \(timeout)"))
        }
        let failed = try await promise.futureResult.get()
        deadline.cancel()
        guard failed == 0 else { throw BenchmarkError(reason: "\(failed) of \(2 * pairs) phones were not registered (\(driver.lastRegisterFailure))") }
    }

    /// Calls through every pair, `pairs` at once, each hung up as soon as it is up, for `duration`;
    /// then waits for the calls in flight.
    public func run(for duration: Duration, media: [CallMediaPlan]? = nil) async throws -> CallLoadResult {
        let promise = driver.loop.makePromise(of: CallLoadResult.self)
        driver.loop.execute { self.driver.startRun(duration: duration, media: media, result: promise) }
        return try await promise.futureResult.get()
    }

    /// Sets up one held call per plan (at most `pairs`, `window` setting up at once) and returns
    /// what each phone learned of the relay, or the first failure.
    public func hold(_ plans: [CallMediaPlan], window: Int) async throws -> [EstablishedCallMedia] {
        guard plans.count <= pairs else { throw BenchmarkError(reason: "\(plans.count) held calls need as many pairs of phones") }
        let promise = driver.loop.makePromise(of: [EstablishedCallMedia].self)
        driver.loop.execute { self.driver.startHold(plans, window: window, result: promise) }
        return try await promise.futureResult.get()
    }

    /// Hangs up every held call; returns how many BYEs were answered 200 at both ends.
    public func hangUpHeld(timeout: Duration = .seconds(10)) async throws -> (completed: Int, held: Int) {
        let promise = driver.loop.makePromise(of: (completed: Int, held: Int).self)
        driver.loop.execute { self.driver.hangUpHeld(timeout: timeout, result: promise) }
        return try await promise.futureResult.get()
    }

    public func close() async {
        for channel in channels { try? await channel.close() }
        channels = []
        try? await group.shutdownGracefully()
    }
}

/// Hands what a phone's socket (or the shared connection) reads to the driver.
final class CallEndpointHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let driver: CallLoadDriver
    private let endpoint: Int
    /// Completed once, by the handshake or by the connection failing first.
    private var handshake: EventLoopPromise<Void>?

    init(driver: CallLoadDriver, endpoint: Int, handshake: EventLoopPromise<Void>? = nil) {
        self.driver = driver
        self.endpoint = endpoint
        self.handshake = handshake
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        driver.receive(Array(buffer.readableBytesView), endpoint: endpoint)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        driver.flush()
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is TLSHandshakeCompleted {
            handshake?.succeed(())
            handshake = nil
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        handshake?.fail(BenchmarkError(reason: "the TLS connection closed before its handshake completed"))
        handshake = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        handshake?.fail(error)
        handshake = nil
        context.fireErrorCaught(error)
    }
}

/// A SIP message as the generator reads it: start line, header lines by lowercased full name,
/// body. Enough for what phones answer; compact header names are expanded.
struct BenchSIPText {
    let startLine: String
    let headers: [(name: String, value: String)]
    let body: String

    static let compact: [String: String] = [
        "v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact", "l": "content-length", "c": "content-type",
    ]

    init?(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { return nil }
        let lines = text[..<split.lowerBound].components(separatedBy: "\r\n")
        guard let first = lines.first, !first.isEmpty else { return nil }
        startLine = first
        var headers: [(String, String)] = []
        for line in lines.dropFirst() {
            if let last = headers.last, line.first == " " || line.first == "\t" {
                headers[headers.count - 1] = (last.0, last.1 + " " + line.trimmingCharacters(in: .whitespaces))
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            headers.append((Self.compact[name] ?? name, line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        self.headers = headers
        body = String(text[split.upperBound...])
    }

    func first(_ name: String) -> String? { headers.first { $0.name == name }?.value }
    func all(_ name: String) -> [String] { headers.filter { $0.name == name }.map(\.value) }

    var isResponse: Bool { startLine.hasPrefix("SIP/2.0 ") }
    var status: Int { isResponse ? Int(startLine.split(separator: " ").dropFirst().first ?? "") ?? 0 : 0 }
    var method: String { isResponse ? "" : String(startLine.prefix { $0 != " " }) }
    var callID: String { first("call-id") ?? "" }
    var cseq: (number: Int, method: String) {
        let parts = (first("cseq") ?? "").split(separator: " ")
        return (Int(parts.first ?? "") ?? 0, parts.count > 1 ? String(parts[1]) : "")
    }

    /// A header's `tag` parameter.
    static func tag(_ value: String?) -> String? {
        guard let value, let range = value.range(of: ";tag=") else { return nil }
        return String(value[range.upperBound...].prefix { $0 != ";" && $0 != " " && $0 != ">" })
    }

    /// The user part of a header's SIP URI.
    static func user(_ value: String?) -> String? {
        guard let value, let start = value.range(of: "sip:") ?? value.range(of: "sips:") else { return nil }
        let rest = value[start.upperBound...]
        guard let at = rest.firstIndex(of: "@") else { return nil }
        return String(rest[..<at])
    }

    /// A name-address's URI (inside angle brackets, or up to the first parameter).
    static func uri(_ value: String?) -> String? {
        guard let value else { return nil }
        if let open = value.firstIndex(of: "<"), let close = value[open...].firstIndex(of: ">") {
            return String(value[value.index(after: open)..<close])
        }
        return String(value.prefix { $0 != ";" })
    }
}

/// The audio stream of an SDP as the generator reads it: address, port, and the
/// AES_CM_128_HMAC_SHA1_80 crypto line (tag and key) if any.
struct BenchSDP {
    var host = ""
    var port = 0
    /// The crypto line the generator's phone takes: AES_CM_128_HMAC_SHA1_32 when offered (it is
    /// the suite rtpengine offers with its own key beside the caller's own, so taking it makes
    /// rtpengine decrypt and re-encrypt rather than pass SRTP through), else AES_CM_128_HMAC_SHA1_80.
    var crypto: (tag: Int, suite: String, key: [UInt8])?

    static let suites = ["AES_CM_128_HMAC_SHA1_32", "AES_CM_128_HMAC_SHA1_80"]

    init?(_ text: String) {
        var found: [(tag: Int, suite: String, key: [UInt8])] = []
        for line in text.components(separatedBy: "\r\n") {
            if line.hasPrefix("c=IN IP4 ") {
                host = String(line.dropFirst(9))
            } else if line.hasPrefix("m=audio ") {
                port = Int(line.dropFirst(8).prefix { $0 != " " }) ?? 0
            } else if line.hasPrefix("a=crypto:") {
                let fields = line.dropFirst(9).split(separator: " ")
                guard fields.count >= 3, Self.suites.contains(String(fields[1])), fields[2].hasPrefix("inline:"), let tag = Int(fields[0])
                else { continue }
                let encoded = fields[2].dropFirst(7).prefix { $0 != "|" }
                guard let data = Data(base64Encoded: String(encoded)), data.count == 30 else { continue }
                found.append((tag, String(fields[1]), Array(data)))
            }
        }
        crypto = found.first { $0.suite == Self.suites[0] } ?? found.first
        guard port > 0, !host.isEmpty else { return nil }
    }

    static func render(sessionID: Int, port: Int, key: [UInt8]?, suite: String = "AES_CM_128_HMAC_SHA1_80", cryptoTag: Int = 1) -> String {
        var lines = [
            "v=0", "o=- \(sessionID) 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0",
            "m=audio \(port) \(key == nil ? "RTP/AVP" : "RTP/SAVP") 0", "a=rtpmap:0 PCMU/8000", "a=ptime:20", "a=sendrecv",
        ]
        if let key { lines.append("a=crypto:\(cryptoTag) \(suite) inline:\(Data(key).base64EncodedString())") }
        return lines.joined(separator: "\r\n") + "\r\n"
    }
}

/// The generator's state, confined to its one event loop.
final class CallLoadDriver: @unchecked Sendable {
    enum CallerPhase { case inviting, confirmed, hangingUp, done }

    final class CallerCall {
        let pair: Int
        let callID: String
        let fromTag: String
        let startedAt: UInt64
        /// When the current step began: the INVITE, or the BYE of a held call.
        var stepStartedAt: UInt64
        var phase = CallerPhase.inviting
        var toTag: String?
        var routeSet: [String] = []
        var remoteTarget = ""
        var ack: [UInt8]?
        var answeredAt: UInt64 = 0
        var byeAnswered = false
        var calleeGotBye = false
        let media: CallMediaPlan?
        var relayTowardCaller: (host: String, port: Int, key: [UInt8]?)?
        var relayTowardCallee: (host: String, port: Int, key: [UInt8]?)?
        var calleeSuite = "AES_CM_128_HMAC_SHA1_80"
        /// The media port the caller offered.
        var offeredPort = 0
        /// Held calls are not hung up when they are up.
        let held: Bool

        init(pair: Int, callID: String, fromTag: String, startedAt: UInt64, media: CallMediaPlan?, held: Bool) {
            self.pair = pair
            self.callID = callID
            self.fromTag = fromTag
            self.startedAt = startedAt
            stepStartedAt = startedAt
            self.media = media
            self.held = held
        }
    }

    /// The callee's half: the last response it sent, for retransmitted requests.
    struct CalleeLeg {
        var pair: Int
        var lastInviteResponse: [UInt8]
        var byeResponse: [UInt8]?
    }

    let loop: any EventLoop
    private let transport: CallLoadTransport
    private let pairs: Int
    private let digestPassword: String?
    private let callTimeout: UInt64
    private let runTag: String
    private let hashing = OpenSSLDigests.hashing(fipsMode: false)
    private var channels: [any Channel] = []
    private var hosts: [String] = []
    private var pendingFlush = Set<Int>()
    private var sequence = 0

    // Registration.
    private var registerPromise: EventLoopPromise<Int>?
    private var registerPending = 0
    private var registerFailed = 0
    private var registerCSeq: [Int] = []
    private var registerChallenged: [Bool] = []
    /// Each phone's REGISTER in flight and when it went, resent after a second without a final
    /// response (UDP); at most `registerWindow` in flight, so no burst overruns the registrar's socket.
    private var registerInFlight: [Int: (request: String, sentAt: UInt64)] = [:]
    private var registerQueue: [Int] = []
    private let registerWindow = 100
    private(set) var lastRegisterFailure = ""

    // Calls.
    private var current: [CallerCall?]
    private var byCallID: [String: CallerCall] = [:]
    private var calleeLegs: [String: CalleeLeg] = [:]
    private var result = CallLoadResult()
    private var runPromise: EventLoopPromise<CallLoadResult>?
    private var runStartedAt: UInt64 = 0
    private var sendDeadline: UInt64 = 0
    private var runMedia: [CallMediaPlan]?
    private var sweep: RepeatedTask?

    // Held calls.
    private var holdPromise: EventLoopPromise<[EstablishedCallMedia]>?
    private var holdQueue: [(pair: Int, plan: CallMediaPlan)] = []
    private var holdEstablished: [Int: EstablishedCallMedia] = [:]
    private var holdCount = 0
    private var hangUpPromise: EventLoopPromise<(completed: Int, held: Int)>?
    private var hangUpCompleted = 0

    init(loop: any EventLoop, transport: CallLoadTransport, pairs: Int, digestPassword: String?, callTimeout: Duration, runTag: String) {
        self.loop = loop
        self.transport = transport
        self.pairs = pairs
        self.digestPassword = digestPassword
        self.callTimeout = UInt64(callTimeout / .nanoseconds(1))
        self.runTag = runTag
        current = Array(repeating: nil, count: pairs)
    }

    func attach(_ channels: [any Channel]) {
        self.channels = channels
        hosts = channels.map { channel in
            guard let address = channel.localAddress, let port = address.port else { return "127.0.0.1:5060" }
            return "127.0.0.1:\(port)"
        }
        let period = TimeAmount.milliseconds(100)
        sweep = loop.scheduleRepeatedTask(initialDelay: period, delay: period) { [weak self] _ in self?.expire() }
    }

    // MARK: Phones

    private var viaTransport: String { transport == .udp ? "UDP" : "TLS" }

    /// Phones 0..<pairs are callers, pairs..<2·pairs callees.
    private func endpoint(ofPhone phone: Int) -> Int { transport == .udp ? phone : 0 }
    private func host(ofPhone phone: Int) -> String { hosts[endpoint(ofPhone: phone)] }
    private func user(ofPhone phone: Int) -> String {
        phone < pairs ? CallLoadGenerator.callerNumber(phone) : CallLoadGenerator.calleeNumber(phone - pairs)
    }

    private func contact(ofPhone phone: Int) -> String {
        "<sip:\(user(ofPhone: phone))@\(host(ofPhone: phone));transport=\(transport.rawValue)>"
    }

    private func nextTag() -> String {
        sequence += 1
        return "\(runTag)\(sequence)"
    }

    private func send(_ text: String, phone: Int) {
        send(Array(text.utf8), endpoint: endpoint(ofPhone: phone))
    }

    private func send(_ bytes: [UInt8], endpoint: Int) {
        let channel = channels[endpoint]
        var buffer = channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        channel.write(buffer, promise: nil)
        pendingFlush.insert(endpoint)
    }

    func flush() {
        for endpoint in pendingFlush { channels[endpoint].flush() }
        pendingFlush.removeAll(keepingCapacity: true)
    }

    private static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    // MARK: Registration

    func registerAll(_ promise: EventLoopPromise<Int>) {
        registerPromise = promise
        registerPending = 2 * pairs
        registerCSeq = Array(repeating: 0, count: 2 * pairs)
        registerChallenged = Array(repeating: false, count: 2 * pairs)
        registerQueue = Array((0..<(2 * pairs)).reversed())
        for _ in 0..<registerWindow { registerNext() }
        flush()
    }

    private func registerNext() {
        guard let phone = registerQueue.popLast() else { return }
        sendRegister(phone, authorization: nil)
    }

    private func resendRegisters(_ now: UInt64) {
        for (phone, flight) in registerInFlight where now > flight.sentAt + 1_000_000_000 {
            registerInFlight[phone] = (flight.request, now)
            send(flight.request, phone: phone)
        }
    }

    private func sendRegister(_ phone: Int, authorization: String?) {
        registerCSeq[phone] += 1
        let user = user(ofPhone: phone)
        let domain = CallLoadGenerator.domain
        let request =
            "REGISTER sip:\(domain) SIP/2.0\r\n"
                + "Via: SIP/2.0/\(viaTransport) \(host(ofPhone: phone));branch=z9hG4bK\(nextTag());rport\r\n"
                + "Max-Forwards: 70\r\nFrom: <sip:\(user)@\(domain)>;tag=\(runTag)r\(phone)\r\nTo: <sip:\(user)@\(domain)>\r\n"
                + "Call-ID: \(runTag)-register-\(phone)\r\nCSeq: \(registerCSeq[phone]) REGISTER\r\nContact: \(contact(ofPhone: phone))\r\n"
                + "Expires: 3600\r\n" + (authorization.map { "Authorization: \($0)\r\n" } ?? "") + "Content-Length: 0\r\n\r\n"
        registerInFlight[phone] = (request, Self.now())
        send(request, phone: phone)
    }

    private func registerResponse(_ message: BenchSIPText) {
        guard let phone = Int(message.callID.split(separator: "-").last ?? ""), phone < 2 * pairs,
            message.cseq.number == registerCSeq[phone], message.status >= 200, registerInFlight[phone] != nil
        else { return }
        registerInFlight[phone] = nil
        if message.status == 401, let password = digestPassword, !registerChallenged[phone],
            let header = message.first("www-authenticate"), let challenge = try? DigestChallenge(parsing: header),
            let answer = try? DigestCredentials.answering(
                challenge, username: user(ofPhone: phone), password: password, method: "REGISTER", uri: "sip:\(CallLoadGenerator.domain)",
                cnonce: runTag, nonceCount: 1, using: hashing)
        {
            registerChallenged[phone] = true
            sendRegister(phone, authorization: answer.description)
            return
        }
        if message.status != 200 {
            registerFailed += 1
            lastRegisterFailure = message.startLine
        }
        registerPending -= 1
        registerNext()
        if registerPending == 0 {
            registerPromise?.succeed(registerFailed)
            registerPromise = nil
        }
    }

    // MARK: Calls

    func startRun(duration: Duration, media: [CallMediaPlan]?, result promise: EventLoopPromise<CallLoadResult>) {
        result = CallLoadResult()
        result.setupLatencies.reserveCapacity(100_000)
        runPromise = promise
        runMedia = media
        runStartedAt = Self.now()
        sendDeadline = runStartedAt + UInt64(duration / .nanoseconds(1))
        for pair in 0..<pairs { startCall(pair, media: media?[pair % max(1, media?.count ?? 1)], held: false) }
        flush()
    }

    func startHold(_ plans: [CallMediaPlan], window: Int, result promise: EventLoopPromise<[EstablishedCallMedia]>) {
        result = CallLoadResult()
        holdPromise = promise
        holdEstablished = [:]
        holdCount = plans.count
        holdQueue = plans.enumerated().map { ($0.offset, $0.element) }.reversed()
        for _ in 0..<min(max(1, window), plans.count) { startNextHeld() }
        flush()
    }

    private func startNextHeld() {
        guard let next = holdQueue.popLast() else { return }
        startCall(next.pair, media: next.plan, held: true)
    }

    private func startCall(_ pair: Int, media: CallMediaPlan?, held: Bool) {
        let call = CallerCall(
            pair: pair, callID: "\(runTag)-call-\(nextTag())", fromTag: nextTag(), startedAt: Self.now(), media: media, held: held)
        current[pair] = call
        byCallID[call.callID] = call
        result.attempted += 1
        call.offeredPort = media?.callerPort ?? (40_000 + 2 * (pair % 10_000))
        let sdp = BenchSDP.render(sessionID: sequence, port: call.offeredPort, key: media?.callerKey)
        let domain = CallLoadGenerator.domain
        send(
            "INVITE sip:\(CallLoadGenerator.calleeNumber(pair))@\(domain) SIP/2.0\r\n"
                + "Via: SIP/2.0/\(viaTransport) \(host(ofPhone: pair));branch=z9hG4bK\(nextTag());rport\r\n"
                + "Max-Forwards: 70\r\nFrom: <sip:\(CallLoadGenerator.callerNumber(pair))@\(domain)>;tag=\(call.fromTag)\r\n"
                + "To: <sip:\(CallLoadGenerator.calleeNumber(pair))@\(domain)>\r\nCall-ID: \(call.callID)\r\nCSeq: 1 INVITE\r\n"
                + "Contact: \(contact(ofPhone: pair))\r\nContent-Type: application/sdp\r\nContent-Length: \(sdp.utf8.count)\r\n\r\n" + sdp,
            phone: pair)
    }

    func receive(_ bytes: [UInt8], endpoint: Int) {
        guard let message = BenchSIPText(bytes) else { return }
        if message.isResponse {
            if message.cseq.method == "REGISTER" {
                registerResponse(message)
            } else if let call = byCallID[message.callID] {
                callerResponse(message, call)
            }
        } else {
            calleeRequest(message, endpoint: endpoint)
        }
    }

    private func callerResponse(_ message: BenchSIPText, _ call: CallerCall) {
        let status = message.status
        switch message.cseq.method {
        case "INVITE":
            guard status >= 200 else { return }
            guard status < 300 else {
                // The transaction layer wants its ACK for a failure, hop by hop.
                if call.phase == .inviting { sendFailureAck(message, call) }
                finish(call, failedWith: status)
                return
            }
            if call.phase != .inviting {
                if let ack = call.ack { send(ack, endpoint: endpoint(ofPhone: call.pair)) }
                return
            }
            call.toTag = BenchSIPText.tag(message.first("to"))
            call.routeSet = message.all("record-route").flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }.reversed()
            call.remoteTarget = BenchSIPText.uri(message.first("contact")) ?? "sip:\(CallLoadGenerator.calleeNumber(call.pair))@\(CallLoadGenerator.domain)"
            call.answeredAt = Self.now()
            if let sdp = BenchSDP(message.body) { call.relayTowardCaller = (sdp.host, sdp.port, sdp.crypto?.key) }
            let ack = Array(inDialog("ACK", cseq: 1, call).utf8)
            call.ack = ack
            send(ack, endpoint: endpoint(ofPhone: call.pair))
            call.phase = .confirmed
            if call.held {
                heldEstablished(call)
            } else {
                hangUp(call)
            }
        case "BYE":
            guard status >= 200, call.phase == .hangingUp else { return }
            guard status < 300 else {
                finish(call, failedWith: status)
                return
            }
            call.byeAnswered = true
            completeIfDone(call)
        default:
            return
        }
    }

    private func hangUp(_ call: CallerCall) {
        call.phase = .hangingUp
        call.stepStartedAt = Self.now()
        send(inDialog("BYE", cseq: 2, call), phone: call.pair)
    }

    private func inDialog(_ method: String, cseq: Int, _ call: CallerCall) -> String {
        let domain = CallLoadGenerator.domain
        return "\(method) \(call.remoteTarget) SIP/2.0\r\n"
            + "Via: SIP/2.0/\(viaTransport) \(host(ofPhone: call.pair));branch=z9hG4bK\(nextTag());rport\r\n"
            + "Max-Forwards: 70\r\n" + call.routeSet.map { "Route: \($0)\r\n" }.joined()
            + "From: <sip:\(CallLoadGenerator.callerNumber(call.pair))@\(domain)>;tag=\(call.fromTag)\r\n"
            + "To: <sip:\(CallLoadGenerator.calleeNumber(call.pair))@\(domain)>;tag=\(call.toTag ?? "")\r\n"
            + "Call-ID: \(call.callID)\r\nCSeq: \(cseq) \(method)\r\nContent-Length: 0\r\n\r\n"
    }

    private func sendFailureAck(_ response: BenchSIPText, _ call: CallerCall) {
        // The ACK of a non-2xx repeats the INVITE's Via branch; the generator kept none, so it
        // takes it from the response's top Via (its own).
        guard let via = response.first("via") else { return }
        let domain = CallLoadGenerator.domain
        send(
            "ACK sip:\(CallLoadGenerator.calleeNumber(call.pair))@\(domain) SIP/2.0\r\nVia: \(via)\r\nMax-Forwards: 70\r\n"
                + "From: <sip:\(CallLoadGenerator.callerNumber(call.pair))@\(domain)>;tag=\(call.fromTag)\r\n"
                + "To: \(response.first("to") ?? "")\r\nCall-ID: \(call.callID)\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n",
            phone: call.pair)
    }

    /// A request to a callee phone: an INVITE to ring and answer, its ACK, a BYE to take.
    private func calleeRequest(_ message: BenchSIPText, endpoint: Int) {
        let callID = message.callID
        switch message.method {
        case "INVITE":
            if let leg = calleeLegs[callID] {
                send(leg.lastInviteResponse, endpoint: endpoint)
                return
            }
            guard let callerNumber = BenchSIPText.user(message.first("from")), let number = Int(callerNumber),
                let pair = Optional(number - 1_000_000), pair >= 0, pair < pairs, let call = current[pair], call.phase == .inviting
            else {
                send(Array(response(to: message, 481, "Call Does Not Exist", toTag: nextTag()).utf8), endpoint: endpoint)
                return
            }
            let toTag = nextTag()
            send(Array(response(to: message, 180, "Ringing", toTag: toTag).utf8), endpoint: endpoint)
            let offer = BenchSDP(message.body)
            if let offer {
                call.relayTowardCallee = (offer.host, offer.port, offer.crypto?.key)
                if let crypto = offer.crypto { call.calleeSuite = crypto.suite }
            }
            let key = call.media?.calleeKey
            let answer = BenchSDP.render(
                sessionID: sequence, port: call.media?.calleePort ?? (50_000 + 2 * (pair % 10_000)), key: offer?.crypto == nil ? nil : key,
                suite: call.calleeSuite, cryptoTag: offer?.crypto?.tag ?? 1)
            let ok = Array(
                response(
                    to: message, 200, "OK", toTag: toTag,
                    extra: "Contact: \(contact(ofPhone: pairs + pair))\r\nContent-Type: application/sdp\r\n", body: answer
                ).utf8)
            calleeLegs[callID] = CalleeLeg(pair: pair, lastInviteResponse: ok)
            send(ok, endpoint: endpoint)
        case "ACK":
            return
        case "BYE":
            guard var leg = calleeLegs[callID] else {
                send(Array(response(to: message, 481, "Call Does Not Exist", toTag: nil).utf8), endpoint: endpoint)
                return
            }
            if let again = leg.byeResponse {
                send(again, endpoint: endpoint)
                return
            }
            let ok = Array(response(to: message, 200, "OK", toTag: nil).utf8)
            leg.byeResponse = ok
            calleeLegs[callID] = leg
            send(ok, endpoint: endpoint)
            if let call = current[leg.pair], call.phase == .hangingUp || call.phase == .confirmed {
                call.calleeGotBye = true
                completeIfDone(call)
            }
            // The leg is forgotten a while later, once retransmissions are over.
            loop.scheduleTask(in: .seconds(2)) { [weak self] in self?.calleeLegs[callID] = nil }
        default:
            send(Array(response(to: message, 200, "OK", toTag: nil).utf8), endpoint: endpoint)
        }
    }

    private func response(to request: BenchSIPText, _ status: Int, _ phrase: String, toTag: String?, extra: String = "", body: String = "") -> String {
        var text = "SIP/2.0 \(status) \(phrase)\r\n"
        for via in request.all("via") { text += "Via: \(via)\r\n" }
        for route in request.all("record-route") { text += "Record-Route: \(route)\r\n" }
        text += "From: \(request.first("from") ?? "")\r\n"
        let to = request.first("to") ?? ""
        text += "To: \(to)\(toTag != nil && BenchSIPText.tag(to) == nil ? ";tag=\(toTag!)" : "")\r\n"
        text += "Call-ID: \(request.callID)\r\nCSeq: \(request.first("cseq") ?? "")\r\n" + extra
        text += "Content-Length: \(body.utf8.count)\r\n\r\n" + body
        return text
    }

    private func completeIfDone(_ call: CallerCall) {
        guard call.byeAnswered, call.calleeGotBye, call.phase == .hangingUp else { return }
        call.phase = .done
        result.completed += 1
        if let relay = call.relayTowardCallee, relay.port != call.offeredPort { result.anchored += 1 }
        if call.answeredAt > call.startedAt { result.setupLatencies.append(call.answeredAt - call.startedAt) }
        if call.held {
            hangUpCompleted += 1
        }
        retire(call)
    }

    private func finish(_ call: CallerCall, failedWith status: Int) {
        guard call.phase != .done else { return }
        call.phase = .done
        result.failedByStatus[status, default: 0] += 1
        if call.held, let promise = holdPromise {
            holdPromise = nil
            promise.fail(BenchmarkError(reason: "a held call failed with \(status)"))
        }
        retire(call)
    }

    /// The call is over: its pair takes the next call while the run is sending.
    private func retire(_ call: CallerCall) {
        byCallID[call.callID] = nil
        guard current[call.pair] === call else { return }
        current[call.pair] = nil
        if call.held {
            finishHangUpIfDone()
            return
        }
        guard runPromise != nil else { return }
        if Self.now() < sendDeadline {
            startCall(call.pair, media: runMedia?[call.pair % max(1, runMedia?.count ?? 1)], held: false)
        } else if current.allSatisfy({ $0 == nil }) {
            finishRun()
        }
    }

    private func finishRun() {
        guard let promise = runPromise else { return }
        runPromise = nil
        result.elapsed = .nanoseconds(Int64(Self.now() - runStartedAt))
        result.setupLatencies.sort()
        promise.succeed(result)
    }

    private func heldEstablished(_ call: CallerCall) {
        guard let media = call.media else { return }
        holdEstablished[call.pair] = EstablishedCallMedia(
            plan: media, relayTowardCaller: call.relayTowardCaller ?? ("", 0, nil), relayTowardCallee: call.relayTowardCallee ?? ("", 0, nil),
            calleeSuite: call.calleeSuite)
        startNextHeld()
        if holdEstablished.count == holdCount, let promise = holdPromise {
            holdPromise = nil
            promise.succeed(holdEstablished.sorted { $0.key < $1.key }.map(\.value))
        }
    }

    func hangUpHeld(timeout: Duration, result promise: EventLoopPromise<(completed: Int, held: Int)>) {
        hangUpCompleted = 0
        hangUpPromise = promise
        let held = current.compactMap { $0 }.filter { $0.held && $0.phase == .confirmed }
        holdCount = held.count
        for call in held { hangUp(call) }
        flush()
        if held.isEmpty { finishHangUpIfDone() }
        loop.scheduleTask(in: .nanoseconds(Int64(timeout / .nanoseconds(1)))) { [weak self] in
            guard let self, let promise = self.hangUpPromise else { return }
            self.hangUpPromise = nil
            promise.succeed((self.hangUpCompleted, self.holdCount))
        }
    }

    private func finishHangUpIfDone() {
        guard let promise = hangUpPromise, !current.contains(where: { $0?.held == true && $0?.phase == .hangingUp }) else { return }
        hangUpPromise = nil
        promise.succeed((hangUpCompleted, holdCount))
    }

    /// Calls stuck longer than the call timeout fail (a held call only while it is being set up
    /// or hung up).
    private func expire() {
        let now = Self.now()
        if transport == .udp { resendRegisters(now) }
        for case let call? in current where call.phase != .done && !(call.held && call.phase == .confirmed) {
            guard now > call.stepStartedAt + callTimeout else { continue }
            call.phase = .done
            result.timedOut += 1
            if call.held, let promise = holdPromise {
                holdPromise = nil
                promise.fail(BenchmarkError(reason: "a held call was not set up within the call timeout"))
            }
            retire(call)
        }
        flush()
    }
}
