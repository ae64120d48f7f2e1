import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The operator's way in: `STATE_DIR/control.sock`, owner-only. A client sends one line,
/// `show <topic> [--json]`, gets the topic's rendering (or one line starting `error: `), and the
/// connection closes.
public final class ControlSocketService: Service {
    public static let fileName = "control.sock"
    /// The start of every refusal, so a client can tell an error from a rendering.
    public static let errorPrefix = "error: "

    /// A client that connects and says nothing does not keep its connection longer than this.
    public static let requestTimeout = TimeAmount.seconds(5)

    public static func socketPath(stateDirectory: String) -> String { stateDirectory + "/" + fileName }

    public let statistics = ControlSocketStatistics()
    public let path: String
    private let topics: ControlTopicRegistry
    private let group: any EventLoopGroup
    private let logger: Logger
    private let maximumRequestLength: Int
    private let requestTimeout: TimeAmount
    private let onListening: @Sendable () -> Void

    public init(
        stateDirectory: String, topics: ControlTopicRegistry, group: any EventLoopGroup, logger: Logger,
        maximumRequestLength: Int = 1024, requestTimeout: TimeAmount = ControlSocketService.requestTimeout,
        onListening: @escaping @Sendable () -> Void = {}
    ) {
        self.path = Self.socketPath(stateDirectory: stateDirectory)
        self.topics = topics
        self.group = group
        self.logger = logger
        self.maximumRequestLength = maximumRequestLength
        self.requestTimeout = requestTimeout
        self.onListening = onListening
    }

    public func run() async throws {
        try removeStaleSocket()
        let topics = self.topics
        let statistics = self.statistics
        let maximumRequestLength = self.maximumRequestLength
        let requestTimeout = self.requestTimeout
        let ownUID = getuid()
        let channel: any Channel
        do {
            channel = try await ServerBootstrap(group: group)
                .childChannelInitializer { channel in
                    Self.peerUID(of: channel).flatMapThrowing { peerUID in
                        // Root may always ask; anyone else only if they are the edge's own user.
                        let allowed = peerUID == 0 || peerUID == ownUID
                        try channel.pipeline.syncOperations.addHandler(
                            ControlRequestHandler(
                                topics: topics, statistics: statistics, maximumRequestLength: maximumRequestLength, requestTimeout: requestTimeout,
                                peerAllowed: allowed))
                    }
                }
                .bind(unixDomainSocketPath: path).get()
        } catch {
            throw ControlSocketError(path: path, reason: "cannot listen: \(error)")
        }
        // The state directory is owner-only already; the socket is too, in case it is not.
        guard chmod(path, 0o600) == 0 else {
            let reason = UnixSocket.errnoText()
            try? await channel.close()
            throw ControlSocketError(path: path, reason: "chmod: \(reason)")
        }
        logger.notice("control socket listening", metadata: ["path": "\(path)"])
        onListening()
        try? await gracefulShutdown()
        try? await channel.close()
        unlink(path)
    }

    /// A socket file left by an edge that died is removed; one that still answers belongs to a
    /// running edge, which this one must not cut off.
    private func removeStaleSocket() throws {
        // Foundation's lstat, not Glibc's `struct stat`: which C module owns that struct's members
        // depends on what else the target imports (NIO's CNIOLinux declares it too).
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return }
        guard attributes[.type] as? FileAttributeType == .typeSocket else { throw ControlSocketError(path: path, reason: "exists and is not a socket") }
        switch UnixSocket.connect(path: path) {
        case .success(let descriptor):
            close(descriptor)
            throw ControlSocketError(path: path, reason: "another edge is running with this state directory")
        case .failure(let failure) where failure.code == ECONNREFUSED:
            logger.notice("removing stale control socket", metadata: ["path": "\(path)"])
            guard unlink(path) == 0 else { throw ControlSocketError(path: path, reason: "cannot remove: \(UnixSocket.errnoText())") }
        case .failure(let failure):
            throw ControlSocketError(path: path, reason: "cannot check: \(failure.text)")
        }
    }

    /// The connecting process's uid (SO_PEERCRED); a channel that cannot tell is treated as a stranger.
    private static func peerUID(of channel: any Channel) -> EventLoopFuture<UInt32?> {
        guard let provider = channel as? any SocketOptionProvider else { return channel.eventLoop.makeSucceededFuture(nil) }
        let credentials: EventLoopFuture<PeerCredentials> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
        return credentials.map { Optional($0.uid) }.recover { _ in nil }
    }
}

/// Linux's `struct ucred`, which Glibc only declares for _GNU_SOURCE.
private struct PeerCredentials: Sendable {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
}

public final class ControlSocketStatistics: Sendable {
    private let answeredCount = Atomic(0)
    private let refusedCount = Atomic(0)

    public init() {}

    public var answered: Int { answeredCount.load(ordering: .relaxed) }
    /// Requests refused: malformed, oversized, unknown topic, or from another user.
    public var refused: Int { refusedCount.load(ordering: .relaxed) }

    func countAnswered() { answeredCount.add(1, ordering: .relaxed) }
    func countRefused() { refusedCount.add(1, ordering: .relaxed) }
}

public struct ControlSocketError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "control socket \(path): \(reason)" }
}
