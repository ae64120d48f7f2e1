import Foundation
import SIPTransport

/// What a configuration can be wrong about beyond each key's own value: two listeners on one
/// port, a certificate or key file that is not there or cannot be read. Found at load, so
/// `check-config`, `run` and a reload all refuse the same file for the same reasons.
enum ConfigurationChecks {
    static func problems(_ configuration: OutpostConfiguration, file: String) -> [ConfigurationError] {
        portClashes(configuration, file: file) + unreadableFiles(configuration, file: file)
    }

    /// A socket the edge would open: its protocol (UDP or TCP), address, port, and the key that asks for it.
    private struct Socket {
        let isTCP: Bool
        let address: String
        let port: Int
        let key: String

        func clashes(with other: Socket) -> Bool {
            guard isTCP == other.isTCP, port == other.port, port != 0 else { return false }
            let wildcard: Set<String> = ["0.0.0.0", "::"]
            return address == other.address || wildcard.contains(address) || wildcard.contains(other.address)
        }
    }

    private static func portClashes(_ configuration: OutpostConfiguration, file: String) -> [ConfigurationError] {
        var sockets = configuration.sip.listeners.enumerated().map { index, listener in
            Socket(
                isTCP: listener.transport != .udp, address: listener.address, port: listener.port,
                key: "sip.listen[\(index)] (\(listener.transport.rawValue.lowercased()))")
        }
        if configuration.tftp.enabled {
            sockets.append(Socket(isTCP: false, address: configuration.tftp.address, port: configuration.tftp.port, key: "tftp.port"))
        }
        if configuration.admin.enabled {
            sockets.append(Socket(isTCP: true, address: configuration.admin.address, port: configuration.admin.port, key: "admin.port"))
        }
        var problems: [ConfigurationError] = []
        for (index, socket) in sockets.enumerated() {
            for earlier in sockets[..<index] where socket.clashes(with: earlier) {
                problems.append(
                    ConfigurationError(
                        file: file, line: nil, key: socket.key,
                        reason: "\(socket.isTCP ? "TCP" : "UDP") port \(socket.port) on \(socket.address) is already \(earlier.key)'s"))
            }
        }
        return problems
    }

    private static func unreadableFiles(_ configuration: OutpostConfiguration, file: String) -> [ConfigurationError] {
        let tls = configuration.sip.tls
        var files: [(key: String, path: String)] = []
        if let certificate = tls.certificate { files.append(("sip.tls.certificate", certificate)) }
        if let key = tls.key { files.append(("sip.tls.key", key)) }
        if let roots = tls.trustRoots { files.append(("sip.tls.trust_roots", roots)) }
        for (index, crl) in tls.crls.enumerated() { files.append(("sip.tls.crls[\(index)]", crl)) }
        return files.compactMap { key, path in
            guard !FileManager.default.fileExists(atPath: path) else {
                return FileManager.default.isReadableFile(atPath: path)
                    ? nil : ConfigurationError(file: file, line: nil, key: key, reason: "\(path) cannot be read by this user")
            }
            return ConfigurationError(file: file, line: nil, key: key, reason: "\(path) does not exist")
        }
    }
}
