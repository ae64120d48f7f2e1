import Edge
import Foundation
import Logging
import NIOCore
import NIOPosix
import Runtime
import ServiceLifecycle
import Testing
import TestRequirementSupport

#if canImport(Glibc)
import Glibc
#endif

/// The control socket served in this process from a temporary state directory.
@Suite struct ControlSocketTests {
    private final class RunningControlSocket: Sendable {
        let stateDirectory = NSTemporaryDirectory() + "control-test-\(UUID().uuidString)"
        let service: ControlSocketService
        private let group: ServiceGroup
        private let task: Task<Void, any Error>

        init(requestTimeout: TimeAmount = ControlSocketService.requestTimeout, otherTopics: [any ControlTopic] = []) async throws {
            try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: false)
            let topics = ControlTopicRegistry([
                DevicesTopic(devices: [
                    Device(name: "SEP001122334455", lines: [DeviceLine(number: "2001")], security: .authenticated),
                    Device(name: "fax", lines: [DeviceLine(number: "2099")], security: .nonSecure, digest: DigestAccount(username: "fax", password: "s3cret")),
                ])
            ] + otherTopics)
            let listening = AsyncStream<Void>.makeStream()
            let logger = Logger(label: "control-test")
            service = ControlSocketService(
                stateDirectory: stateDirectory, topics: topics, group: MultiThreadedEventLoopGroup.singleton, logger: logger,
                requestTimeout: requestTimeout, onListening: { listening.continuation.finish() })
            group = ServiceGroup(services: [service], logger: logger)
            task = Task { [group] in try await group.run() }
            for await _ in listening.stream {}
        }

        func stop() async throws {
            await group.triggerGracefulShutdown()
            try await task.value
            try? FileManager.default.removeItem(atPath: stateDirectory)
        }

        var client: BlockingOffThePool { BlockingOffThePool(client: ControlClient(stateDirectory: stateDirectory)) }
    }

    /// The client blocks; topics render on the cooperative pool, which a blocked test thread
    /// (of this suite or a parallel one) must not starve: the calls go to a Dispatch thread.
    struct BlockingOffThePool {
        let client: ControlClient
        var socketPath: String { client.socketPath }

        func show(_ topic: String, json: Bool = false) async throws -> String {
            try await Self.offThePool { try client.show(topic, json: json) }
        }

        func request(_ line: String) async throws -> String {
            try await Self.offThePool { try client.request(line) }
        }

        func request(bytes: [UInt8]) async throws -> String {
            try await Self.offThePool { try client.request(bytes: bytes) }
        }

        static func offThePool(_ body: @escaping @Sendable () throws -> String) async throws -> String {
            try await withCheckedThrowingContinuation { continuation in
                DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
            }
        }
    }

    @Test func devicesAreShownAsATableAndAsJSONWithoutPasswords() async throws {
        let edge = try await RunningControlSocket()
        let table = try await edge.client.show("devices")
        let rows = table.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(rows.first == ["NAME", "MAC", "LINES", "SECURITY", "DIGEST", "DISPLAY", "NAME"], "\(table)")
        #expect(rows.contains(["fax", "-", "2099", "non-secure", "yes"]), "\(table)")
        let json = try await edge.client.show("devices", json: true)
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])
        #expect(parsed.map { $0["name"] as? String } == ["SEP001122334455", "fax"])
        #expect(!table.contains("s3cret") && !json.contains("s3cret"))
        #expect(edge.service.statistics.answered == 2)
        try await edge.stop()
    }

    @Test func theSocketIsOwnerOnlyAndRemovedAtShutdown() async throws {
        let edge = try await RunningControlSocket()
        var info = stat()
        #expect(stat(edge.client.socketPath, &info) == 0)
        #expect(info.st_mode & S_IFMT == S_IFSOCK)
        #expect(info.st_mode & 0o777 == 0o600)
        let path = edge.client.socketPath
        try await edge.stop()
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func anUnknownTopicIsRefusedWithTheKnownOnes() async throws {
        let edge = try await RunningControlSocket()
        await #expect(throws: ControlClientError.refused("unknown topic 'registrations'; known topics: devices")) {
            try await edge.client.show("registrations")
        }
        #expect(edge.service.statistics.refused == 1)
        try await edge.stop()
    }

    @Test func hostileRequestsGetAnErrorLineAndAreCounted() async throws {
        let edge = try await RunningControlSocket()
        await #expect(throws: ControlClientError.refused("request longer than 1024 bytes")) {
            try await edge.client.request(bytes: Array(repeating: UInt8(ascii: "A"), count: 100_000))
        }
        await #expect(throws: ControlClientError.refused("request longer than 1024 bytes")) {
            try await edge.client.request("show " + String(repeating: "x", count: 2000))
        }
        await #expect(throws: ControlClientError.refused("the request is not UTF-8")) {
            try await edge.client.request(bytes: [0xFF, 0xFE, 0x00, 0xC3, 0x28, 0x0A])
        }
        await #expect(throws: ControlClientError.refused("expected 'show <topic> [<argument>] [--json]'")) {
            try await edge.client.request("GET / HTTP/1.1\r")
        }
        await #expect(throws: ControlClientError.refused("unknown topic 'a\u{1}b'; known topics: devices")) {
            try await edge.client.request("show a\u{1}b")
        }
        #expect(edge.service.statistics.refused == 5)
        // Still serving.
        #expect(try await edge.client.show("devices").contains("SEP001122334455"))
        try await edge.stop()
    }

    @Test func anotherUserIsRefusedEvenWhenFileModesWouldLetItIn() async throws {
        guard getuid() == 0, let setpriv = ExternalTool.path("setpriv") else {
            TestRequirement.unmet("switching to another user needs root and setpriv (util-linux)")
            return
        }
        let edge = try await RunningControlSocket()
        // Open the owner-only modes up, as a careless operator might: the peer check still holds.
        #expect(chmod(edge.stateDirectory, 0o755) == 0 && chmod(edge.client.socketPath, 0o666) == 0)
        let outcome = try ExternalTool.run(
            setpriv, ["--reuid=65534", "--regid=65534", "--clear-groups", BinaryTests.binary, "show", "devices", "--state-dir", edge.stateDirectory],
            timeout: .seconds(20))
        #expect(outcome.status == 1)
        #expect(outcome.output.contains("permission denied: the control socket answers only its owner"), "\(outcome.output)")
        #expect(edge.service.statistics.refused == 1)
        try await edge.stop()
    }

    @Test func aStaleSocketIsReplacedAndALiveOneIsNot() async throws {
        let edge = try await RunningControlSocket()
        let second = ControlSocketService(
            stateDirectory: edge.stateDirectory, topics: ControlTopicRegistry(), group: MultiThreadedEventLoopGroup.singleton,
            logger: Logger(label: "control-test"))
        let error = try await #require(throws: ControlSocketError.self) { try await second.run() }
        #expect(error.reason == "another edge is running with this state directory")
        try await edge.stop()

        // A socket file nobody listens on, as a kill -9 leaves it.
        let directory = NSTemporaryDirectory() + "control-stale-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let stalePath = ControlSocketService.socketPath(stateDirectory: directory)
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(stalePath.utf8)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)
        close(descriptor)
        let listening = AsyncStream<Void>.makeStream()
        let replacement = ControlSocketService(
            stateDirectory: directory, topics: ControlTopicRegistry([DevicesTopic(devices: [])]), group: MultiThreadedEventLoopGroup.singleton,
            logger: Logger(label: "control-test"), onListening: { listening.continuation.finish() })
        let group = ServiceGroup(services: [replacement], logger: Logger(label: "control-test"))
        let task = Task { try await group.run() }
        for await _ in listening.stream {}
        #expect(try await BlockingOffThePool(client: ControlClient(stateDirectory: directory)).show("devices").contains("0 devices"))
        await group.triggerGracefulShutdown()
        try await task.value
    }

    /// A topic slower than the request timeout, as `show calls` is on an edge carrying 200 calls.
    private struct SlowTopic: ControlTopic {
        let name = "slow"
        func render(json: Bool) async -> String {
            try? await Task.sleep(for: .milliseconds(600))
            return "rendered\n"
        }
    }

    /// The request timeout is for a client that says nothing; once the request is read, a slow
    /// topic still gets its answer out (it used to be cut off at the timeout, answerless).
    @Test func aSlowTopicIsAnsweredPastTheRequestTimeoutWhileASilentClientIsNot() async throws {
        let edge = try await RunningControlSocket(requestTimeout: .milliseconds(200), otherTopics: [SlowTopic()])
        #expect(try await edge.client.show("slow") == "rendered\n")
        let started = ContinuousClock.now
        await #expect(throws: ControlClientError.failed(stateDirectory: edge.stateDirectory, reason: "the edge closed the connection without an answer")) {
            try await edge.client.request(bytes: [])
        }
        #expect(started.duration(to: .now) < .seconds(3))
        try await edge.stop()
    }

    @Test func aClientWithoutAnEdgeSaysSo() throws {
        let directory = NSTemporaryDirectory() + "no-edge-\(UUID().uuidString)"
        let error = try #require(throws: ControlClientError.self) { try ControlClient(stateDirectory: directory).show("devices") }
        #expect(error.description == "no edge is running with state directory \(directory) (connect: No such file or directory)")
    }
}
