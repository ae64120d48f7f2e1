import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import SIPTransport
import ServiceLifecycle
import Synchronization
import TLS

/// The admin HTTP listener (`admin:`): Prometheus metrics at `/metrics`, the status page at `/`. It is for the
/// operator's monitoring, never in the way of calls: if its port cannot be bound the edge logs
/// why and runs on without it.
final class AdminHTTPService: Service, Sendable {
    /// A connection silent this long is closed (Prometheus scrapes every 15 to 60 s on one connection).
    static let idleTimeout = TimeAmount.seconds(120)

    let statistics: AdminHTTPStatistics
    private let configuration: OutpostConfiguration.Admin
    private let group: any EventLoopGroup
    private let routes: AdminRoutes
    /// HTTPS: the edge's certificate, client certificates optional.
    private let tlsContext: TLSContext?
    private let logger: Logger
    private let onListening: @Sendable (SocketAddress?) -> Void

    init(
        configuration: OutpostConfiguration.Admin, group: any EventLoopGroup, statistics: AdminHTTPStatistics,
        routes: AdminRoutes, tlsContext: TLSContext? = nil, logger: Logger, onListening: @escaping @Sendable (SocketAddress?) -> Void = { _ in }
    ) {
        self.tlsContext = tlsContext
        self.configuration = configuration
        self.statistics = statistics
        self.group = group
        self.routes = routes
        self.logger = logger
        self.onListening = onListening
    }

    func run() async throws {
        let statistics = self.statistics
        let routes = self.routes
        let tlsContext = self.tlsContext
        let maximum = configuration.maximumConnections
        let deadline = TimeAmount.seconds(Int64(configuration.requestDeadlineSeconds))
        let open = Atomic<Int>(0)
        let channel: any Channel
        do {
            channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { child in
                    guard open.add(1, ordering: .relaxed).newValue <= maximum else {
                        open.subtract(1, ordering: .relaxed)
                        statistics.countRefusedConnection()
                        return child.close()
                    }
                    child.closeFuture.whenComplete { _ in open.subtract(1, ordering: .relaxed) }
                    return child.eventLoop.makeCompletedFuture {
                        try child.pipeline.syncOperations.addHandler(
                            AdminRequestDeadline(deadline: deadline, idle: Self.idleTimeout, statistics: statistics))
                        if let tlsContext { try child.pipeline.syncOperations.addHandler(TLSHandler(context: tlsContext)) }
                        try child.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        try child.pipeline.syncOperations.addHandler(AdminHTTPHandler(routes: routes, statistics: statistics))
                    }
                }
                .bind(host: configuration.address, port: configuration.port).get()
        } catch {
            logger.error(
                "admin listener not started: metrics are unavailable, calls are not affected",
                metadata: ["address": "tcp:\(configuration.address):\(configuration.port)", "error": "\(error)"])
            onListening(nil)
            try await gracefulShutdown()
            return
        }
        logger.notice("admin listener ready", metadata: ["address": "\(tlsContext == nil ? "http" : "https")://\(channel.localAddress?.hostPort ?? "?")/metrics"])
        onListening(channel.localAddress)
        try? await gracefulShutdown()
        try? await channel.close()
    }
}

/// The admin listener's counters, in its own metrics.
final class AdminHTTPStatistics: Sendable {
    private struct Counts {
        var byStatus: [Int: Int] = [:]
        var refusedConnections = 0
        var deadlineCloses = 0
    }

    private let counts = Mutex(Counts())

    func count(status: Int) { counts.withLock { $0.byStatus[status, default: 0] += 1 } }
    func countRefusedConnection() { counts.withLock { $0.refusedConnections += 1 } }
    func countDeadlineClose() { counts.withLock { $0.deadlineCloses += 1 } }

    var families: [MetricFamily] {
        let counts = self.counts.withLock { $0 }
        var requests = MetricFamily("outpost_admin_http_requests_total", .counter, "Requests the admin listener answered, by HTTP status.")
        for (status, count) in counts.byStatus.sorted(by: { $0.key < $1.key }) { requests.append(Double(count), ("status", "\(status)")) }
        return [
            requests,
            MetricFamily(
                "outpost_admin_http_connections_refused_total", .counter, "Admin connections closed on accept: admin.max_connections were open.",
                value: counts.refusedConnections),
            MetricFamily(
                "outpost_admin_http_deadline_closes_total", .counter, "Admin connections closed because a request was not complete in time.",
                value: counts.deadlineCloses),
        ]
    }
}
