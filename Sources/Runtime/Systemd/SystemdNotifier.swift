// timespec's fields are visible through CoreFoundation under MemberImportVisibility (an incremental build hides it).
import CoreFoundation

#if canImport(Glibc)
import Glibc
#endif

/// systemd's notify protocol (sd_notify(3)) without libsystemd: each notification is one datagram
/// of newline-separated `KEY=VALUE` lines sent to the AF_UNIX SOCK_DGRAM socket named by
/// `$NOTIFY_SOCKET` (a name starting with `@` is in the abstract namespace). Without
/// `$NOTIFY_SOCKET` every call is a no-op, so the edge runs the same outside systemd.
public struct SystemdNotifier: Sendable {
    /// Where notifications go; nil when the edge was not started by systemd with `Type=notify`.
    public let socketPath: String?
    /// How often systemd expects `WATCHDOG=1` at the latest (`$WATCHDOG_USEC`); nil without a watchdog.
    public let watchdogTimeout: Duration?

    public init(socketPath: String?, watchdogMicroseconds: UInt64? = nil) {
        self.socketPath = socketPath.flatMap { $0.isEmpty ? nil : $0 }
        self.watchdogTimeout = watchdogMicroseconds.flatMap { $0 == 0 ? nil : .microseconds(Int64(clamping: $0)) }
    }

    /// The notifier systemd asked for through the environment, as sd_notify(3) and
    /// sd_watchdog_enabled(3) read it: the watchdog is this process's only if `$WATCHDOG_PID` is
    /// unset or names it.
    public static func fromEnvironment(_ environment: [String: String], processID: Int32 = getpid()) -> SystemdNotifier {
        var watchdog = environment["WATCHDOG_USEC"].flatMap { UInt64($0) }
        if let owner = environment["WATCHDOG_PID"], Int32(owner) != processID { watchdog = nil }
        return SystemdNotifier(socketPath: environment["NOTIFY_SOCKET"], watchdogMicroseconds: watchdog)
    }

    /// `fromEnvironment` over this process's own environment.
    public static func fromProcessEnvironment() -> SystemdNotifier {
        var environment: [String: String] = [:]
        for name in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] {
            if let value = getenv(name) { environment[name] = String(cString: value) }
        }
        return fromEnvironment(environment)
    }

    public var isEnabled: Bool { socketPath != nil }

    /// Sends the lines as one datagram. A notifier without a socket succeeds without sending.
    @discardableResult
    public func notify(_ lines: String...) -> Result<Void, SystemdNotifyError> { notify(lines) }

    @discardableResult
    public func notify(_ lines: [String]) -> Result<Void, SystemdNotifyError> {
        guard let socketPath else { return .success(()) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var pathBytes = Array(socketPath.utf8)
        let abstract = pathBytes.first == UInt8(ascii: "@")
        if abstract { pathBytes[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        // A path needs room for its terminating NUL; an abstract name is its bytes exactly.
        guard pathBytes.count + (abstract ? 0 : 1) <= capacity else {
            return .failure(SystemdNotifyError(socketPath: socketPath, reason: "socket name longer than \(capacity - 1) bytes"))
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
        }
        let length = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)! + pathBytes.count + (abstract ? 0 : 1)
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else {
            return .failure(SystemdNotifyError(socketPath: socketPath, reason: "socket: \(String(cString: strerror(errno)))"))
        }
        defer { close(descriptor) }
        let message = Array(lines.joined(separator: "\n").utf8)
        let sent = message.withUnsafeBytes { bytes in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(descriptor, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL), $0, socklen_t(length))
                }
            }
        }
        guard sent == message.count else {
            return .failure(SystemdNotifyError(socketPath: socketPath, reason: "sendto: \(String(cString: strerror(errno)))"))
        }
        return .success(())
    }

    /// `CLOCK_MONOTONIC` in microseconds, the clock `MONOTONIC_USEC=` is read against.
    public static func monotonicMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
    }

    /// The two lines that open a reload (systemd.service(5), `Type=notify-reload`; systemd 252
    /// accepts them under `Type=notify` too).
    public static func reloadingLines() -> [String] {
        ["RELOADING=1", "MONOTONIC_USEC=\(monotonicMicroseconds())"]
    }
}

public struct SystemdNotifyError: Error, CustomStringConvertible {
    public let socketPath: String
    public let reason: String
    public var description: String { "NOTIFY_SOCKET \(socketPath): \(reason)" }
}
