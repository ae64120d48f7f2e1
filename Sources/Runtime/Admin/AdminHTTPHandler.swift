import NIOCore
import NIOHTTP1
import TLS

/// What the admin listener serves: the metrics, and the status page behind its login.
struct AdminRoutes: Sendable {
    var metrics: @Sendable () async -> [UInt8]
    /// Nil, or without an authenticator: the page is off.
    var page: (@Sendable () async -> String)?
    var authenticator: AdminAuthenticator?
}

/// Answers one admin HTTP connection's requests: `GET /metrics` and `GET /` (and HEAD), 404 for
/// any other path, 405 for any other method, 413 for a request with a body, 401 for the page
/// without the right login. Each request is counted by the status it got.
final class AdminHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// A request's complete answer, made off the event loop.
    struct Response: Sendable {
        var status: HTTPResponseStatus
        var contentType: String
        var body: [UInt8]
        var extraHeaders: [(String, String)] = []

        static func text(_ status: HTTPResponseStatus, _ text: String, extraHeaders: [(String, String)] = []) -> Response {
            Response(status: status, contentType: "text/plain; charset=utf-8", body: Array((text + "\n").utf8), extraHeaders: extraHeaders)
        }
    }

    /// Sent toward the head when a request is complete, so the deadline that started with its
    /// first byte stops.
    struct RequestCompleted: Sendable {}

    static let metricsContentType = "text/plain; version=0.0.4; charset=utf-8"
    /// GET has no body here; a client that sends one anyway is refused rather than buffered.
    static let maximumBody = 0

    static let pageHeaders = [
        ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'"), ("X-Frame-Options", "DENY"),
        ("X-Content-Type-Options", "nosniff"),
    ]

    private let routes: AdminRoutes
    private let statistics: AdminHTTPStatistics
    private var head: HTTPRequestHead?
    private var bodyBytes = 0
    /// The names of the verified client certificate, over TLS.
    private var certificateNames: [String] = []

    init(routes: AdminRoutes, statistics: AdminHTTPStatistics) {
        self.routes = routes
        self.statistics = statistics
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            bodyBytes = 0
        case .body(let buffer):
            bodyBytes += buffer.readableBytes
        case .end:
            guard let head else { return }
            self.head = nil
            context.triggerUserOutboundEvent(RequestCompleted(), promise: nil)
            answer(head, context: context)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let completed = event as? TLSHandshakeCompleted, let peer = completed.peer {
            certificateNames = [peer.commonName].compactMap { $0 } + peer.dnsNames + peer.uris
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func answer(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        let immediate: Response? =
            if head.method != .GET && head.method != .HEAD {
                .text(.methodNotAllowed, "only GET and HEAD are answered here", extraHeaders: [("Allow", "GET, HEAD")])
            } else if bodyBytes > Self.maximumBody {
                .text(.payloadTooLarge, "a GET request carries no body")
            } else if path != "/metrics" && path != "/" {
                .text(.notFound, "no such page: \(path.prefix(100)); the status page is at /, Prometheus metrics at /metrics")
            } else if path == "/", routes.page == nil || routes.authenticator == nil {
                .text(.notFound, "the status page is off: set admin.password_hash (outpost admin hash-password) or admin.certificate_names")
            } else {
                nil
            }
        let keepAlive = head.isKeepAlive && immediate == nil
        let headOnly = head.method == .HEAD
        if let immediate {
            write(immediate, keepAlive: keepAlive, headOnly: headOnly, version: head.version, context: context)
            return
        }
        let rendered = context.eventLoop.makePromise(of: Response.self)
        let routes = self.routes
        let authorization = head.headers.first(name: "Authorization")
        let certificateNames = self.certificateNames
        rendered.completeWithTask {
            guard path == "/" else { return Response(status: .ok, contentType: Self.metricsContentType, body: await routes.metrics()) }
            // PBKDF2 takes its time here, off the event loop.
            guard let page = routes.page, routes.authenticator?.admits(certificateNames: certificateNames, authorization: authorization) == true else {
                return .text(
                    .unauthorized, "log in with the admin user and password",
                    extraHeaders: [("WWW-Authenticate", "Basic realm=\"\(AdminAuthenticator.realm)\", charset=\"UTF-8\"")])
            }
            return Response(status: .ok, contentType: "text/html; charset=utf-8", body: Array(await page().utf8), extraHeaders: Self.pageHeaders)
        }
        rendered.futureResult.assumeIsolated().whenSuccess { response in
            self.write(response, keepAlive: keepAlive, headOnly: headOnly, version: head.version, context: context)
        }
    }

    private func write(_ response: Response, keepAlive: Bool, headOnly: Bool, version: HTTPVersion, context: ChannelHandlerContext) {
        statistics.count(status: Int(response.status.code))
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: "\(response.body.count)")
        headers.add(name: "Cache-Control", value: "no-store")
        for (name, value) in response.extraHeaders { headers.add(name: name, value: value) }
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: response.status, headers: headers))), promise: nil)
        if !headOnly, !response.body.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: response.body)))), promise: nil)
        }
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            if !keepAlive { channel.close(promise: nil) }
        }
    }
}

/// Closes a connection whose request is not complete `deadline` after its first byte, and one
/// that stays silent for `idle`: a client trickling bytes cannot hold an admin slot. A request
/// larger than `maximumRequestBytes` (NIO's HTTP parser sets no limit of its own) gets 431 and a
/// close instead of being buffered.
final class AdminRequestDeadline: ChannelDuplexHandler {
    static let maximumRequestBytes = 16_384

    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let deadline: TimeAmount
    private let idle: TimeAmount
    private let statistics: AdminHTTPStatistics
    private var requestTimer: Scheduled<Void>?
    private var idleTimer: Scheduled<Void>?
    private var requestBytes = 0
    private var refused = false

    init(deadline: TimeAmount, idle: TimeAmount, statistics: AdminHTTPStatistics) {
        self.deadline = deadline
        self.idle = idle
        self.statistics = statistics
    }

    func channelActive(context: ChannelHandlerContext) {
        armIdle(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        requestTimer?.cancel()
        idleTimer?.cancel()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        armIdle(context)
        requestBytes += unwrapInboundIn(data).readableBytes
        if requestBytes > Self.maximumRequestBytes {
            refused = true
            statistics.count(status: 431)
            let channel = context.channel
            let answer = "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: answer))).whenComplete { _ in
                channel.close(promise: nil)
            }
            return
        }
        if requestTimer == nil {
            let channel = context.channel
            let statistics = self.statistics
            requestTimer = context.eventLoop.scheduleTask(in: deadline) {
                statistics.countDeadlineClose()
                channel.close(promise: nil)
            }
        }
        context.fireChannelRead(data)
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard event is AdminHTTPHandler.RequestCompleted else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        requestTimer?.cancel()
        requestTimer = nil
        requestBytes = 0
        promise?.succeed()
    }

    private func armIdle(_ context: ChannelHandlerContext) {
        idleTimer?.cancel()
        let channel = context.channel
        idleTimer = context.eventLoop.scheduleTask(in: idle) { channel.close(promise: nil) }
    }
}
