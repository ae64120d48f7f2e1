import Foundation

/// A baresip configuration directory for a headless phone with the test PKI's phone certificate
/// (CN SEP001122334455, SIP URI 2001@edge.test) that registers over TLS to 127.0.0.1:`tlsPort`.
enum BaresipHome {
    /// Returns the directory; the caller removes it.
    static func make(registrarTLSPort tlsPort: Int) throws -> String {
        try make(account: "<sip:2001@edge.test;transport=tls>;outbound=\"sip:127.0.0.1:\(tlsPort);transport=tls\";regint=60")
    }

    /// The same phone with another account line (baresip's `accounts` syntax).
    static func make(account: String) throws -> String {
        let home = NSTemporaryDirectory() + "baresip-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        // baresip wants certificate and key in one file.
        let identity = try String(contentsOfFile: IntegrationPKI.path("phone.pem"), encoding: .utf8)
            + String(contentsOfFile: IntegrationPKI.path("phone.key"), encoding: .utf8)
        try identity.write(toFile: "\(home)/phone.pem", atomically: true, encoding: .utf8)
        try """
            sip_listen 127.0.0.1:0
            sip_certificate \(home)/phone.pem
            sip_cafile \(IntegrationPKI.path("ca.pem"))
            module_path /usr/lib/baresip/modules
            module menu.so
            module_app account.so

            """.write(toFile: "\(home)/config", atomically: true, encoding: .utf8)
        try (account + "\n").write(toFile: "\(home)/accounts", atomically: true, encoding: .utf8)
        return home
    }
}
