import Foundation
import XFRM

#if canImport(Glibc)
import Glibc
#endif

/// Three network namespaces — `phones`, `edge`, `hq` (the call manager's side) — joined by veth
/// pairs, for tests that need a WAN to break:
///
///     phones 10.X.1.2 ── 10.X.1.1 edge 10.X.2.1 ── 10.X.2.2 hq
///
/// Names carry a random tag and X is random, so parallel runs do not collide. `destroy()` (also
/// run by `deinit`) SIGKILLs whatever still runs in the namespaces and deletes them; call it in a
/// `defer` right after `create()`.
///
/// Running Swift code inside a namespace: a network namespace belongs to a thread, and a socket
/// keeps the namespace it was created in. `onThread(in:)` runs a body on a fresh thread that
/// entered the namespace (XFRM's `NetworkNamespace.enterOnCurrentThread`, setns(2)); sockets made there (plain sockets, or a NIO bootstrap's
/// bind/connect, which creates its socket on the calling thread) live in that namespace, and
/// their event loops can run anywhere. External programs run under `ip netns exec` (`launcher`).
final class NetworkNamespaceLab: @unchecked Sendable {
    enum Namespace: String, CaseIterable {
        case phones, edge, hq
    }

    let tag: String
    let subnet: Int
    private var destroyed = false
    private static let ip = "/usr/sbin/ip"

    var phonesAddress: String { "10.\(subnet).1.2" }
    var edgePhonesAddress: String { "10.\(subnet).1.1" }
    var edgeWANAddress: String { "10.\(subnet).2.1" }
    var hqAddress: String { "10.\(subnet).2.2" }

    private init(tag: String, subnet: Int) {
        self.tag = tag
        self.subnet = subnet
    }

    deinit { destroy() }

    func name(_ namespace: Namespace) -> String { "\(tag)-\(namespace.rawValue)" }

    /// The command prefix that runs a program inside `namespace`.
    func launcher(_ namespace: Namespace) -> [String] { [Self.ip, "netns", "exec", name(namespace)] }

    static func create() throws -> NetworkNamespaceLab {
        let lab = NetworkNamespaceLab(tag: "op" + String(UInt32.random(in: 0...UInt32.max), radix: 36), subnet: Int.random(in: 16...250))
        do {
            for namespace in Namespace.allCases {
                try lab.ip(["netns", "add", lab.name(namespace)])
                try lab.ip(["-n", lab.name(namespace), "link", "set", "lo", "up"])
            }
            try lab.join(.phones, "to-edge", lab.phonesAddress, .edge, "to-phones", lab.edgePhonesAddress)
            try lab.join(.edge, "wan", lab.edgeWANAddress, .hq, "to-edge", lab.hqAddress)
        } catch {
            lab.destroy()
            throw error
        }
        return lab
    }

    private func join(_ left: Namespace, _ leftLink: String, _ leftAddress: String, _ right: Namespace, _ rightLink: String, _ rightAddress: String) throws {
        try ip(["link", "add", leftLink, "netns", name(left), "type", "veth", "peer", "name", rightLink, "netns", name(right)])
        for (namespace, link, address) in [(left, leftLink, leftAddress), (right, rightLink, rightAddress)] {
            try ip(["-n", name(namespace), "addr", "add", "\(address)/24", "dev", link])
            try ip(["-n", name(namespace), "link", "set", link, "up"])
        }
    }

    /// Lets `edge` route between phones and hq. Only for tests of the lab itself: the real edge
    /// is an application-level proxy and must not forward IP.
    func enableForwarding() throws {
        try run(in: .edge, ["/usr/sbin/sysctl", "-qw", "net.ipv4.ip_forward=1"], check: true)
        try ip(["-n", name(.phones), "route", "add", "10.\(subnet).2.0/24", "via", edgePhonesAddress])
        try ip(["-n", name(.hq), "route", "add", "10.\(subnet).1.0/24", "via", edgeWANAddress])
    }

    /// The WAN outage: the edge's side of the edge–hq link goes down (and its peer with it).
    func setWAN(up: Bool) throws {
        try ip(["-n", name(.edge), "link", "set", "wan", up ? "up" : "down"])
    }

    @discardableResult
    func run(in namespace: Namespace, _ command: [String], timeout: Duration = .seconds(30), check: Bool = false) throws -> ExternalTool.Outcome {
        let outcome = try ExternalTool.run(Self.ip, Array(launcher(namespace).dropFirst()) + command, timeout: timeout)
        if check, outcome.status != 0 || outcome.timedOut {
            throw LabError(reason: "\(command.joined(separator: " ")) in \(name(namespace)): exit \(outcome.status)\(outcome.timedOut ? " (timed out)" : ""): \(outcome.output)")
        }
        return outcome
    }

    /// Runs `body` on a new thread inside `namespace` and returns what it returns.
    func onThread<Result: Sendable>(in namespace: Namespace, _ body: @escaping @Sendable () throws -> Result) throws -> Result {
        let path = "/run/netns/\(name(namespace))"
        let box = ResultBox<Result>()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            defer { done.signal() }
            box.set(Swift.Result {
                try NetworkNamespace.enterOnCurrentThread(path: path)
                return try body()
            })
        }
        thread.start()
        done.wait()
        return try box.take().get()
    }

    /// Kills what still runs in the namespaces, then deletes them. Safe to call more than once.
    func destroy() {
        guard !destroyed else { return }
        destroyed = true
        for namespace in Namespace.allCases {
            let pids = (try? ExternalTool.run(Self.ip, ["netns", "pids", name(namespace)], timeout: .seconds(10)))?.output ?? ""
            for pid in pids.split(whereSeparator: \.isNewline).compactMap({ Int32($0) }) { kill(pid, SIGKILL) }
        }
        // A delete can fail while the namespace's last processes are still exiting: retry a while.
        let deadline = ContinuousClock.now + .seconds(10)
        for namespace in Namespace.allCases {
            while FileManager.default.fileExists(atPath: "/run/netns/\(name(namespace))"), ContinuousClock.now < deadline {
                _ = try? ExternalTool.run(Self.ip, ["netns", "delete", name(namespace)], timeout: .seconds(10))
                if FileManager.default.fileExists(atPath: "/run/netns/\(name(namespace))") { Thread.sleep(forTimeInterval: 0.1) }
            }
        }
    }

    private func ip(_ arguments: [String]) throws {
        let outcome = try ExternalTool.run(Self.ip, arguments, timeout: .seconds(10))
        guard outcome.status == 0 else { throw LabError(reason: "ip \(arguments.joined(separator: " ")): \(outcome.output)") }
    }

    /// Whether this process may create network namespaces (root, or CAP_SYS_ADMIN).
    static var available: Bool { geteuid() == 0 && FileManager.default.isExecutableFile(atPath: ip) }
}

struct LabError: Error, CustomStringConvertible {
    let reason: String
    var description: String { reason }
}

private final class ResultBox<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<Value, any Error> = .failure(LabError(reason: "the namespace thread returned nothing"))

    func set(_ value: Result<Value, any Error>) {
        lock.lock()
        result = value
        lock.unlock()
    }

    func take() -> Result<Value, any Error> {
        lock.lock()
        defer { lock.unlock() }
        return result
    }
}
