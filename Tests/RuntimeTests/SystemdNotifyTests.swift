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

    /// The real `outpost run` as systemd starts it: NOTIFY_SOCKET in its environment, SIGHUP for
    /// `systemctl reload` (ExecReload=/bin/kill -HUP), SIGTERM for stop. Also what
    /// MemoryDenyWriteExecute=yes relies on: no mapping of the running edge is writable and executable.
    @Test func outpostBinaryAnswersSIGHUPAndSIGTERMLikeSystemdExpects() async throws {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("outpost").path
        try #require(FileManager.default.isExecutableFile(atPath: binary), "\(binary) is built beside the tests")
        let directory = try NotifyTestDirectory()
        let listener = try NotifySocketListener(path: directory.path + "/notify")
        let (sip, tls, tftp) = (Self.freePort(), Self.freePort(), Self.freePort())
        let config = directory.path + "/outpost.yaml"
        try """
            sip:
              listen:
                - {transport: udp, address: 127.0.0.1, port: \(sip)}
                - {transport: tcp, address: 127.0.0.1, port: \(sip)}
                - {transport: tls, address: 127.0.0.1, port: \(tls)}
            tftp:
              address: 127.0.0.1
              port: \(tftp)
            log:
              level: warning

            """.write(toFile: config, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["run", "--config", config, "--state-dir", directory.path + "/state"]
        process.environment = ["NOTIFY_SOCKET": listener.name, "PATH": "/usr/bin:/bin"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

        let ready = try await listener.receive()
        #expect(ready.first == "READY=1" && ready.contains("STATUS=registrar survivable, 0 bindings"), "\(ready)")
        let maps = try String(contentsOfFile: "/proc/\(process.processIdentifier)/maps", encoding: .utf8)
        let writableAndExecutable = maps.split(separator: "\n").filter { line in
            let permissions = line.split(separator: " ").dropFirst().first ?? ""
            return permissions.contains("w") && permissions.contains("x")
        }
        #expect(writableAndExecutable.isEmpty, "MemoryDenyWriteExecute=yes would refuse \(writableAndExecutable)")

        kill(process.processIdentifier, SIGHUP)
        let reloading = try await listener.receive()
        #expect(reloading.first == "RELOADING=1" && reloading.contains { $0.hasPrefix("MONOTONIC_USEC=") }, "\(reloading)")
        let reloaded = try await listener.receive()
        #expect(reloaded.first == "READY=1", "\(reloaded)")
        kill(process.processIdentifier, SIGTERM)
        let stopping = try await listener.receive()
        #expect(stopping.first == "STOPPING=1", "\(stopping)")
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 0)
    }

    /// A port the kernel just handed out on 127.0.0.1 for UDP, free for TCP too as far as it knows.
    static func freePort() -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(descriptor, pointer, length) == 0 ? getsockname(descriptor, pointer, &length) : -1
            }
        }
        return Int(UInt16(bigEndian: address.sin_port))
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
