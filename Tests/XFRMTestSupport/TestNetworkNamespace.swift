import Foundation
import Glibc
import XFRM

/// A named network namespace (`ip netns add`) for tests that touch kernel XFRM state, so they
/// never see or disturb the host's SAs and policies. Delete it with `delete()` (use `defer`).
public final class TestNetworkNamespace {
    public let name: String
    private var deleted = false

    public init() throws {
        name = "outpost-wt-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try Self.ip(["netns", "add", name])
    }

    deinit {
        delete()
    }

    public func delete() {
        guard !deleted else { return }
        deleted = true
        _ = try? Self.ip(["netns", "del", name])
    }

    /// Runs `ip <arguments>` inside the namespace.
    @discardableResult
    public func ip(_ arguments: [String]) throws -> String {
        try Self.ip(["netns", "exec", name, Self.ipPath] + arguments)
    }

    /// Runs `body` with the calling thread switched into the namespace, then switches back.
    /// Sockets created in `body` stay in the namespace for their whole life. `body` is
    /// synchronous, so no other task can run on this thread while it is switched.
    public func enter<T>(_ body: () throws -> T) throws -> T {
        let original = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
        guard original >= 0 else { throw NamespaceError.system("open /proc/thread-self/ns/net", errno) }
        defer { close(original) }
        let target = open("/run/netns/\(name)", O_RDONLY | O_CLOEXEC)
        guard target >= 0 else { throw NamespaceError.system("open /run/netns/\(name)", errno) }
        defer { close(target) }

        guard Self.setns(target, Self.cloneNewNet) == 0 else { throw NamespaceError.system("setns", errno) }
        defer {
            // Failing to return would leave this test thread in the namespace: stop loudly.
            precondition(Self.setns(original, Self.cloneNewNet) == 0, "cannot return to the original network namespace")
        }
        return try body()
    }

    public enum NamespaceError: Error, CustomStringConvertible {
        case system(String, Int32)
        case command([String], Int32, String)

        public var description: String {
            switch self {
            case .system(let call, let code): "\(call): \(String(cString: strerror(code)))"
            case .command(let arguments, let status, let output): "\(arguments.joined(separator: " ")) exited \(status): \(output)"
            }
        }
    }

    // MARK: - Plumbing

    static let cloneNewNet: Int32 = 0x4000_0000  // CLONE_NEWNET

    /// glibc's `setns`, looked up at run time: Swift's Glibc module hides GNU extensions.
    static let setns: @convention(c) (Int32, Int32) -> Int32 = {
        guard let symbol = dlsym(nil, "setns") else { fatalError("glibc has no setns") }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
    }()

    public static let ipPath: String = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"]
        .first { FileManager.default.isExecutableFile(atPath: $0) } ?? "ip"

    @discardableResult
    public static func ip(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ipPath)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw NamespaceError.command(["ip"] + arguments, process.terminationStatus, text)
        }
        return text
    }
}

/// Whether kernel XFRM tests can run here; prints why not, once.
public enum XFRMTestEnvironment {
    public static let usable: Bool = {
        if let reason = unusableReason {
            print("XFRM kernel tests skipped: \(reason)")
            return false
        }
        return true
    }()

    private static var unusableReason: String? {
        guard getuid() == 0 else { return "not running as root (network namespaces need CAP_SYS_ADMIN)" }
        do {
            let namespace = try TestNetworkNamespace()
            defer { namespace.delete() }
            let socket = try namespace.enter { try NetlinkXFRMSocket() }
            _ = try socket.states()
            return nil
        } catch {
            return "no usable network namespace with XFRM: \(error)"
        }
    }
}
