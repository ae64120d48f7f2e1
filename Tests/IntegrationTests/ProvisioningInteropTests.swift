import Foundation
import PKI
import OutpostBench
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The real binary serving its generated provisioning files to Debian's TFTP clients: every file
/// fetched by tftp-hpa, atftp and curl alike; the SRST certificate is the edge's; openssl
/// verifies the trust list's and the signed config's signatures with the SAST certificate.
@Suite(.serialized) struct ProvisioningInteropTests {
    static let files = [
        "ITLFile.tlv", "CTLFile.tlv", "SEP001BD4AABBCC.cnf.xml", "SEP001BD4AABBCC.cnf.xml.sgn", "805ec0112233.cfg", "outpost-ca.pem",
        "outpost-srst.pem",
    ]

    @Test func everyGeneratedFileReachesEveryClientAndItsSignaturesVerify() async throws {
        let tftp = try #require(ExternalTool.path("tftp"), "tftp-hpa is installed by appliance/install-deps")
        let atftp = try #require(ExternalTool.path("atftp"), "atftp is installed by appliance/install-deps")
        let curl = try #require(ExternalTool.path("curl"), "curl is installed by appliance/install-deps")
        let openssl = try #require(ExternalTool.path("openssl"))
        let state = NSTemporaryDirectory() + "outpost-provisioning-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: state) }
        let sipPort = try FreePort.pick()
        let tftpPort = try FreePort.pick()
        let config = state + "/outpost.yaml"
        try """
            sip:
              listen:
                - {transport: udp, address: 127.0.0.1, port: \(sipPort)}
                - {transport: tls, address: 127.0.0.1, port: \(sipPort + 1)}
            pki: {addresses: [127.0.0.1], names: [edge.test]}
            devices:
              - {name: SEP001BD4AABBCC, lines: ["2001"], security: encrypted}
              - {name: lobby, mac: "80:5e:c0:11:22:33", lines: ["2002"], security: non-secure, digest: {username: "2002", password: pw}}
            tftp: {address: 127.0.0.1, port: \(tftpPort)}
            state_directory: \(state)
            log: {level: warning}
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let edge = try BackgroundEdge(launcher: [], config: config, log: state + "/edge.log")
        defer { edge.kill() }
        try await BackgroundEdge.waitFor("the generated files", timeout: .seconds(20)) {
            try ExternalTool.run(curl, ["-sf", "-o", "/dev/null", "tftp://127.0.0.1:\(tftpPort)/ITLFile.tlv"], timeout: .seconds(5)).status == 0
        }

        let downloads = state + "/downloads"
        try FileManager.default.createDirectory(atPath: downloads, withIntermediateDirectories: false)
        var fetched: [String: [Data]] = [:]
        for name in Self.files {
            let byCurl = "\(downloads)/curl-\(name)", byTFTP = "\(downloads)/tftp-\(name)", byATFTP = "\(downloads)/atftp-\(name)"
            let curlRun = try ExternalTool.run(curl, ["-sS", "--tftp-blksize", "1428", "-o", byCurl, "tftp://127.0.0.1:\(tftpPort)/\(name)"], timeout: .seconds(10))
            #expect(curlRun.status == 0, "curl \(name): \(curlRun.output)")
            let tftpRun = try ExternalTool.run(tftp, ["127.0.0.1", "\(tftpPort)", "-m", "binary", "-c", "get", name, byTFTP], timeout: .seconds(10))
            #expect(tftpRun.status == 0 && !tftpRun.output.contains("Error"), "tftp \(name): \(tftpRun.output)")
            let atftpRun = try ExternalTool.run(atftp, ["--option", "blksize 1428", "-g", "-r", name, "-l", byATFTP, "127.0.0.1", "\(tftpPort)"], timeout: .seconds(10))
            #expect(atftpRun.status == 0, "atftp \(name): \(atftpRun.output)")
            fetched[name] = [byCurl, byTFTP, byATFTP].compactMap { FileManager.default.contents(atPath: $0) }
            #expect(fetched[name]?.count == 3 && Set(fetched[name] ?? []).count == 1, "\(name): the three clients got different bytes")
        }

        // The SRST certificate handed out is the one the edge's TLS listener presents.
        let served = try #require(fetched["outpost-srst.pem"]?.first)
        #expect(served == FileManager.default.contents(atPath: state + "/pki/srst/cert.pem"))

        // openssl checks the trust list and the signed config against the SAST certificate.
        let sast = state + "/pki/sast/cert.pem"
        let key = state + "/sast-public.pem"
        #expect(try ExternalTool.run(openssl, ["x509", "-in", sast, "-pubkey", "-noout", "-out", key]).status == 0)
        for name in ["ITLFile.tlv", "SEP001BD4AABBCC.cnf.xml.sgn"] {
            let bytes = try #require(fetched[name]?.first).map { $0 }
            let header = name.hasSuffix(".tlv") ? try CiscoTrustList.parse(bytes).header : try CiscoSignedFile.parse(bytes).header
            let signed = state + "/\(name).signed", signature = state + "/\(name).sig"
            try Data(header.signedBytes).write(to: URL(fileURLWithPath: signed))
            try Data(header.signature).write(to: URL(fileURLWithPath: signature))
            let digest = header.digest == .sha1 ? "-sha1" : "-sha256"
            let verified = try ExternalTool.run(openssl, ["dgst", digest, "-verify", key, "-signature", signature, signed])
            #expect(verified.output.contains("Verified OK"), "\(name): \(verified.output)")
        }
        // The trust list carries the SRST certificate the phones will meet on TLS.
        let trustList = try CiscoTrustList.parse(try #require(fetched["ITLFile.tlv"]?.first).map { $0 })
        let srst = try Certificate(pemEncoded: String(decoding: served, as: UTF8.self))
        #expect(trustList.records.contains { $0.certificateDER == srst.derEncoded })

        // Refusals with the right error: a write, a traversal and a missing file.
        let put = try ExternalTool.run(tftp, ["127.0.0.1", "\(tftpPort)", "-c", "put", config, "evil.cfg"], timeout: .seconds(10))
        #expect(put.output.contains("Error code 2"), "\(put.output)")
        let traversal = try ExternalTool.run(curl, ["-sS", "-o", "/dev/null", "tftp://127.0.0.1:\(tftpPort)/../etc/passwd"], timeout: .seconds(10))
        #expect(traversal.status != 0)
        let missing = try ExternalTool.run(curl, ["-sS", "-o", "/dev/null", "tftp://127.0.0.1:\(tftpPort)/SEP999999999999.cnf.xml"], timeout: .seconds(10))
        #expect(missing.status == 68, "\(missing.output)")
        let shown = try ExternalTool.run(BinaryTests.binary, ["show", "tftp", "--json", "--config", config], timeout: .seconds(10))
        #expect(shown.status == 0 && shown.output.contains("write_requests_refused"), "\(shown.output)")
    }
}
