import Foundation
import Logging
import Runtime
import SIPTransport
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// systemd's side of `Type=notify`, played by the test: a datagram socket of its own that the
/// edge is pointed at as `NOTIFY_SOCKET` would point it.
@Suite struct SystemdNotifyTests {
    @Test func notifierSendsOneDatagramToAPathSocket() async throws {
        let directory = try NotifyTestDirectory()
        let listener = try NotifySocketListener(path: directory.path + "/notify")
        let notifier = SystemdNotifier(socketPath: listener.name)
        #expect(notifier.isEnabled)
        try notifier.notify("READY=1", "STATUS=up").get()
        #expect(try await listener.receive() == ["READY=1", "STATUS=up"])
    }

    @Test func notifierReachesAnAbstractSocketNamedWithAnAt() async throws {
        let listener = try NotifySocketListener(abstract: "outpost-notify-test-\(UUID().uuidString)")
        #expect(listener.name.hasPrefix("@"))
        try SystemdNotifier(socketPath: listener.name).notify("WATCHDOG=1").get()
        #expect(try await listener.receive() == ["WATCHDOG=1"])
    }

    @Test func withoutNotifySocketNothingIsSentAndNothingFails() throws {
        let notifier = SystemdNotifier.fromEnvironment(["WATCHDOG_USEC": "30000000"])
        #expect(!notifier.isEnabled)
        #expect((try? notifier.notify("READY=1").get()) != nil)
    }

    @Test func aMissingSocketIsAnErrorNamingIt() {
        let result = SystemdNotifier(socketPath: "/nonexistent/outpost-notify").notify("READY=1")
        guard case .failure(let error) = result else {
            Issue.record("sending to a socket that does not exist succeeded")
            return
        }
        #expect(error.description.contains("/nonexistent/outpost-notify"))
    }

    @Test func watchdogIsThisProcessesOnlyWhenWatchdogPIDAllowsIt() {
        let mine = SystemdNotifier.fromEnvironment(["NOTIFY_SOCKET": "@x", "WATCHDOG_USEC": "30000000"], processID: 42)
        #expect(mine.watchdogTimeout == .seconds(30))
        let named = SystemdNotifier.fromEnvironment(
            ["NOTIFY_SOCKET": "@x", "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "42"], processID: 42)
        #expect(named.watchdogTimeout == .seconds(30))
        let other = SystemdNotifier.fromEnvironment(
            ["NOTIFY_SOCKET": "@x", "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "43"], processID: 42)
        #expect(other.watchdogTimeout == nil)
        #expect(SystemdNotifier.fromEnvironment(["NOTIFY_SOCKET": "@x", "WATCHDOG_USEC": "0"]).watchdogTimeout == nil)
    }

    /// The whole edge on loopback, from the embedded default configuration with free ports and a
    /// state directory of its own: READY once SIP, TFTP and the control socket listen, then STATUS,
    /// WATCHDOG, RELOADING with MONOTONIC_USEC and READY around a reload, and STOPPING at
    /// graceful shutdown, in that order.
    @Test func runningEdgeTellsSystemdEveryStepInOrder() async throws {
        let directory = try NotifyTestDirectory()
        let listener = try NotifySocketListener(path: directory.path + "/notify")
        var configuration = try ConfigurationLoader.load(yaml: DefaultConfiguration.yaml, file: "(embedded default)")
        configuration.sip.listeners = configuration.sip.listeners.map {
            var listener = $0
            listener.address = "127.0.0.1"
            listener.port = 0
            return listener
        }
        #expect(configuration.sip.listeners.contains { $0.transport == .tls }, "the reload re-reads the TLS files")
        configuration.tftp.address = "127.0.0.1"
        configuration.tftp.port = 0
        #expect(configuration.tftp.enabled)
        configuration.stateDirectory = directory.path + "/state"
        let runtime = OutpostRuntime(configuration: configuration)
        var logger = Logger(label: "systemd-notify-test")
        logger.logLevel = .warning
        let sipListening = Atomic(false)
        let tftpListening = Atomic(false)
        let notifier = SystemdNotifier(socketPath: listener.name, watchdogMicroseconds: 200_000)
        let running = Task { [logger] in
            try await runtime.run(
                logger: logger, notifier: notifier, onListening: { _ in sipListening.store(true, ordering: .sequentiallyConsistent) },
                onTFTPListening: { _ in tftpListening.store(true, ordering: .sequentiallyConsistent) })
        }

        var received: [[String]] = []
        func next() async throws -> [String] {
            let message = try await listener.receive()
            received.append(message)
            return message
        }
        let first = try await next()
        #expect(first.first == "READY=1", "\(first)")
        #expect(sipListening.load(ordering: .sequentiallyConsistent) && tftpListening.load(ordering: .sequentiallyConsistent))
        #expect(
            FileManager.default.fileExists(atPath: ControlSocketService.socketPath(stateDirectory: configuration.stateDirectory)),
            "READY before the control socket listens")
        while try await !next().contains("WATCHDOG=1") {}

        let before = SystemdNotifier.monotonicMicroseconds()
        runtime.reload()
        var reloading = try await next()
        while reloading == ["WATCHDOG=1"] { reloading = try await next() }
        let after = SystemdNotifier.monotonicMicroseconds()
        #expect(reloading.first == "RELOADING=1", "\(received)")
        let stamp = reloading.first { $0.hasPrefix("MONOTONIC_USEC=") }.flatMap { UInt64($0.dropFirst("MONOTONIC_USEC=".count)) }
        #expect(stamp.map { (before...after).contains($0) } == true, "MONOTONIC_USEC \(String(describing: stamp)) not within \(before)...\(after)")
        while try await !next().contains("READY=1") {}

        await runtime.shutdownGracefully()
        try await running.value
        while try await !next().contains("STOPPING=1") {}

        let lines = received.flatMap { $0 }
        let expected = [
            "READY=1", "STATUS=registrar survivable, 0 bindings", "WATCHDOG=1", "RELOADING=1", "MONOTONIC_USEC=", "READY=1",
            "STOPPING=1",
        ]
        var position = lines.startIndex
        for step in expected {
            guard let found = lines[position...].firstIndex(where: { $0.hasPrefix(step) }) else {
                Issue.record("\(step) missing after line \(position) of \(lines)")
                break
            }
            position = found + 1
        }
        #expect(received.last?.first == "STOPPING=1", "\(received)")
    }
}

/// A directory under the temporary directory, removed when the value goes.
final class NotifyTestDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "outpost-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// An AF_UNIX datagram socket that receives what the edge notifies, one datagram at a time,
/// waiting at most `timeout` for each so a missing notification fails instead of hanging.
final class NotifySocketListener: Sendable {
    let name: String
    private let descriptor: Int32
    private let path: String?

    convenience init(path: String) throws { try self.init(name: path, path: path) }
    convenience init(abstract: String) throws { try self.init(name: "@" + abstract, path: nil) }

    private init(name: String, path: String?, timeout: Int = 30) throws {
        self.name = name
        self.path = path
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard descriptor >= 0 else { throw NotifyListenerError(reason: "socket: \(errno)") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(name.utf8)
        if path == nil { bytes[0] = 0 }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)! + bytes.count + (path == nil ? 0 : 1)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(length)) }
        }
        guard bound == 0 else {
            close(descriptor)
            throw NotifyListenerError(reason: "bind \(name): \(String(cString: strerror(errno)))")
        }
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit {
        close(descriptor)
        if let path { unlink(path) }
    }

    /// The next datagram's lines, waited for on a thread of its own, away from the edge's tasks.
    func receive() async throws -> [String] {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try self.receiveNow() }) }
        }
    }

    private func receiveNow() throws -> [String] {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        guard count >= 0 else { throw NotifyListenerError(reason: "no notification within the time limit: \(String(cString: strerror(errno)))") }
        return String(decoding: buffer[..<count], as: UTF8.self).split(separator: "\n").map(String.init)
    }
}

struct NotifyListenerError: Error, CustomStringConvertible {
    let reason: String
    var description: String { reason }
}
