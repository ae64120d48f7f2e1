import Foundation
import PKI
import TLS

/// Certificates for the benchmarks, issued by the edge's own PKI code into a scratch directory.
enum BenchmarkPKI {
    struct Files {
        let server: TLSConfiguration
        let client: TLSConfiguration
        let caCertificate: String
        let clientCertificate: String
        let clientKey: String
    }

    static func make(in directory: String, serverKey: KeySpec) throws -> Files {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let authority = try CertificateAuthority.createRoot(
            subject: DistinguishedName(commonName: "Outpost Bench CA"), key: try PrivateKey(generating: .ecP256))
        let serverPrivate = try PrivateKey(generating: serverKey)
        let serverCertificate = try authority.issueServerCertificate(
            dnsNames: ["edge.bench"], ipAddresses: ["127.0.0.1"], for: serverPrivate.publicKey, validity: .days(30))
        let clientPrivate = try PrivateKey(generating: .ecP256)
        let clientCertificate = try authority.issueDeviceCertificate(
            name: "SEP001122334455", for: clientPrivate.publicKey, validity: .days(30))
        let paths = (ca: directory + "/ca.pem", server: directory + "/server.pem", serverKey: directory + "/server.key",
                     client: directory + "/client.pem", clientKey: directory + "/client.key")
        try authority.certificate.pemEncoded().write(toFile: paths.ca, atomically: true, encoding: .utf8)
        try serverCertificate.pemEncoded().write(toFile: paths.server, atomically: true, encoding: .utf8)
        try serverPrivate.pkcs8PEM().write(toFile: paths.serverKey, atomically: true, encoding: .utf8)
        try clientCertificate.pemEncoded().write(toFile: paths.client, atomically: true, encoding: .utf8)
        try clientPrivate.pkcs8PEM().write(toFile: paths.clientKey, atomically: true, encoding: .utf8)
        return Files(
            server: TLSConfiguration(role: .server, certificateChainPath: paths.server, privateKeyPath: paths.serverKey, trustRootsPath: paths.ca),
            client: TLSConfiguration(role: .client, certificateChainPath: paths.client, privateKeyPath: paths.clientKey, trustRootsPath: paths.ca, serverName: "edge.bench"),
            caCertificate: paths.ca, clientCertificate: paths.client, clientKey: paths.clientKey)
    }
}
