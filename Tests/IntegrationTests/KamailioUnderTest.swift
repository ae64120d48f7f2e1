import Foundation
import OutpostBench

/// Kamailio as the stand-in call manager: Fixtures/kamailio/kamailio.cfg (a registrar with
/// in-memory usrloc, Path support, OPTIONS answered itself) on chosen listeners, optionally inside
/// a namespace of a `NetworkNamespaceLab`. Its TLS listener presents the test PKI's server
/// certificate and requires a client certificate from the test CA.
final class KamailioUnderTest: @unchecked Sendable {
    /// One contact of one AOR, as Kamailio's `ul.dump` lists it.
    struct Binding: Equatable {
        var aor: String
        var contact: String
        var path: String?
        var received: String?
        /// The listener it arrived on, e.g. `udp:127.0.0.1:5060`.
        var socket: String
    }

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/kamailio").path

    let address: String
    /// UDP and TCP share this port.
    let port: Int
    let tlsPort: Int
    let process: KamailioProcess
    private let launcher: [String]

    private init(address: String, port: Int, tlsPort: Int, process: KamailioProcess, launcher: [String]) {
        self.address = address
        self.port = port
        self.tlsPort = tlsPort
        self.process = process
        self.launcher = launcher
    }

    deinit { stop() }

    /// Starts Kamailio and returns once it answers OPTIONS over UDP.
    /// - Parameters:
    ///   - port: nil picks a free port on loopback (inside a fresh namespace, 5060 is free).
    ///   - namespace: the lab and namespace to run in; it must own `address`.
    static func start(
        address: String = "127.0.0.1", port: Int? = nil, tlsPort: Int? = nil,
        in namespace: (lab: NetworkNamespaceLab, namespace: NetworkNamespaceLab.Namespace)? = nil, children: Int = 2
    ) async throws -> KamailioUnderTest {
        let port = try port ?? FreePort.pick()
        let tlsPort = try tlsPort ?? FreePort.pick()
        let work = NSTemporaryDirectory() + "kamailio-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let tls = try String(contentsOfFile: "\(fixtures)/tls.cfg", encoding: .utf8)
            .replacingOccurrences(of: "@CERTIFICATE@", with: IntegrationPKI.path("server.pem"))
            .replacingOccurrences(of: "@PRIVATE_KEY@", with: IntegrationPKI.path("server.key"))
            .replacingOccurrences(of: "@CA_LIST@", with: IntegrationPKI.path("ca.pem"))
        try tls.write(toFile: "\(work)/tls.cfg", atomically: true, encoding: .utf8)
        let launcher = namespace.map { $0.lab.launcher($0.namespace) } ?? []
        let process = try KamailioProcess(
            configurationFile: "\(fixtures)/kamailio.cfg",
            listeners: ["udp:\(address):\(port)", "tcp:\(address):\(port)", "tls:\(address):\(tlsPort)"],
            defines: ["WITH_TLS", "TLS_CONFIG=\"\(work)/tls.cfg\"", "CHILDREN=\(children)"],
            workDirectory: work, launcher: launcher)
        let kamailio = KamailioUnderTest(address: address, port: port, tlsPort: tlsPort, process: process, launcher: launcher)
        try kamailio.waitUntilAnsweringOptions()
        return kamailio
    }

    /// Polls with sipsak (from the same namespace) until a 200 comes back, at most 20 s.
    private func waitUntilAnsweringOptions() throws {
        let sipsak = try ExternalTool.path("sipsak") ?? { throw LabError(reason: "sipsak is installed by appliance/install-deps") }()
        let command = launcher + [sipsak, "-s", "sip:\(address):\(port)"]
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            guard process.isRunning else { throw LabError(reason: "kamailio exited: \(process.log.suffix(3000))") }
            let outcome = try ExternalTool.run(command[0], Array(command.dropFirst()), timeout: .seconds(2))
            if outcome.status == 0 { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        stop()
        throw LabError(reason: "kamailio did not answer OPTIONS on \(address):\(port) within 20 s: \(process.log.suffix(3000))")
    }

    /// What Kamailio has registered now, from `kamcmd ul.dump`.
    func bindings() throws -> [Binding] {
        Self.parse(dump: try process.control(["ul.dump"]))
    }

    func stop() {
        process.stop()
        try? FileManager.default.removeItem(atPath: process.workDirectory)
    }

    /// `ul.dump` prints one "Key: value" per line, an AoR line before its contacts and each
    /// contact's Address first.
    static func parse(dump: String) -> [Binding] {
        var bindings: [Binding] = []
        var aor = ""
        for line in dump.split(whereSeparator: \.isNewline) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard let colon = trimmed.firstIndex(of: ":") else { continue }
            let key = trimmed[..<colon]
            let value = trimmed[trimmed.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            let set = value == "[not set]" ? nil : value
            switch key {
            case "AoR": aor = value
            case "Address": bindings.append(Binding(aor: aor, contact: value, path: nil, received: nil, socket: ""))
            case "Path" where !bindings.isEmpty: bindings[bindings.count - 1].path = set
            case "Received" where !bindings.isEmpty: bindings[bindings.count - 1].received = set
            case "Socket" where !bindings.isEmpty: bindings[bindings.count - 1].socket = value
            default: break
            }
        }
        return bindings
    }
}
