import Foundation
import Testing
import TestRequirementSupport

#if canImport(Glibc)
import Glibc
#endif

/// The README's run command: the real `outpost` binary on its embedded default configuration.
@Suite(.serialized) struct BinaryTests {
    static var binary: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("outpost").path
    }

    @Test func versionIsPrinted() throws {
        let outcome = try ExternalTool.run(Self.binary, ["--version"], timeout: .seconds(10))
        #expect(outcome.status == 0)
        #expect(outcome.output.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ".").count == 3)
    }

    @Test func embeddedDefaultConfigurationServesUDPTCPAndTLSAndStopsOnSIGTERM() throws {
        guard Self.portIsFree(5060), Self.portIsFree(5061), Self.portIsFree(69) else {
            TestRequirement.unmet("something already listens on 5060, 5061 or 69, where the embedded configuration binds")
            return
        }
        let sipsak = try #require(ExternalTool.path("sipsak"))
        let state = NSTemporaryDirectory() + "outpost-binary-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: state) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["run", "--state-dir", state]
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = pipe
        try process.run()
        let output = OutputCollector(handle: pipe.fileHandleForReading)
        defer { if process.isRunning { process.terminate() } }
        var answered = false
        for _ in 0..<50 where !answered {
            let probe = try ExternalTool.run(sipsak, ["-s", "sip:127.0.0.1:5060"], timeout: .seconds(5))
            answered = probe.status == 0
            if !answered { Thread.sleep(forTimeInterval: 0.1) }
        }
        #expect(answered)
        let tcp = try ExternalTool.run(sipsak, ["-E", "tcp", "-s", "sip:127.0.0.1:5060"], timeout: .seconds(5))
        #expect(tcp.status == 0, "\(tcp.output)")
        var info = stat()
        #expect(stat(state, &info) == 0 && info.st_mode & 0o777 == 0o700)

        // First start made the PKI; a phone certificate from `outpost pki issue` gets in over TLS.
        let issued = try ExternalTool.run(
            Self.binary, ["pki", "issue", "--state-dir", state, "--device", "SEP0011223344AA", "--cert-out", "\(state)/phone.pem",
                          "--key-out", "\(state)/phone.key"], timeout: .seconds(30))
        #expect(issued.status == 0, "\(issued.output)")
        let verified = try ExternalTool.run(
            "/usr/bin/openssl", ["verify", "-CAfile", "\(state)/pki/ca/cert.pem", "-crl_check", "-CRLfile", "\(state)/pki/crl.pem", "\(state)/phone.pem"])
        #expect(verified.output.contains("phone.pem: OK"), "\(verified.output)")
        let request = "\(state)/options.txt"
        try SIPProbe.options(port: 5061, transport: "TLS").write(toFile: request, atomically: true, encoding: .utf8)
        let tls = try ExternalTool.run("/bin/bash", ["-c",
            "(cat \(request); sleep 1) | openssl s_client -connect 127.0.0.1:5061 -quiet -no_ign_eof -verify_return_error "
            + "-CAfile \(state)/pki/ca/cert.pem -cert \(state)/phone.pem -key \(state)/phone.key"], timeout: .seconds(15))
        #expect(tls.output.contains("SIP/2.0 200 OK"), "\(tls.output)")
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(output.finish().contains("Outpost stopped"))
    }

    @Test func badConfigurationIsRefusedWithFileLineAndKey() throws {
        let file = NSTemporaryDirectory() + "bad-\(UUID().uuidString).yaml"
        try "sip:\n  listen:\n    - transport: udp\n      prot: 5060\n".write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let outcome = try ExternalTool.run(Self.binary, ["check-config", "--config", file], timeout: .seconds(10))
        #expect(outcome.status != 0)
        #expect(outcome.output.contains("\(file):4: sip.listen[0].prot: unknown key"), "\(outcome.output)")
    }

    static func portIsFree(_ port: UInt16) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
