import Foundation
import NIOCore
import OutpostBench
import TLS
import Testing

/// The stand-in call manager against independent peers, before the edge sits between them: sipp
/// over UDP and over TLS (through socat), and baresip, each registering to Kamailio; the
/// bindings are then read back from Kamailio itself.
@Suite(.serialized) struct KamailioPeerTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

    /// Runs one sipp scenario to completion (at most `timeout`) and returns its outcome with the
    /// content of its error log.
    static func sipp(_ target: String, scenario: String, transport: String = "u1", calls: Int = 1, extra: [String] = [],
                     launcher: [String] = [], timeout: Duration = .seconds(30)) throws -> (outcome: ExternalTool.Outcome, errors: String) {
        let sipp = try #require(ExternalTool.path("sipp"), "sipp (sip-tester) is installed by appliance/install-deps")
        let work = NSTemporaryDirectory() + "sipp-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let command = launcher + [sipp, target, "-sf", "\(fixtures)/\(scenario).xml", "-t", transport, "-m", String(calls), "-r", "50",
                                  "-timeout", "15s", "-nostdin", "-trace_err", "-error_file", "\(work)/errors.log"] + extra
        let outcome = try ExternalTool.run(command[0], Array(command.dropFirst()), timeout: timeout, directory: work)
        return (outcome, (try? String(contentsOfFile: "\(work)/errors.log", encoding: .utf8)) ?? "")
    }

    @Test func sippRegistersOverUDPAndKamailioListsTheBindings() async throws {
        let kamailio = try await KamailioUnderTest.start()
        defer { kamailio.stop() }
        #expect(try kamailio.bindings().isEmpty)
        let run = try Self.sipp("127.0.0.1:\(kamailio.port)", scenario: "sipp-register", calls: 5)
        #expect(run.outcome.status == 0, "sipp exit \(run.outcome.status): \(run.errors.prefix(2000))")
        let bindings = try kamailio.bindings()
        #expect(Set(bindings.map(\.aor)) == Set((1...5).map { "phone\($0)" }), "\(bindings)")
        #expect(bindings.allSatisfy { $0.socket == "udp:127.0.0.1:\(kamailio.port)" && $0.contact.contains("@127.0.0.1:") })
    }

    @Test func aRegisterWithPathKeepsThePathInTheBinding() async throws {
        let kamailio = try await KamailioUnderTest.start()
        defer { kamailio.stop() }
        let run = try Self.sipp("127.0.0.1:\(kamailio.port)", scenario: "sipp-register-path")
        #expect(run.outcome.status == 0, "sipp exit \(run.outcome.status): \(run.errors.prefix(2000))")
        let binding = try #require(try kamailio.bindings().first { $0.aor == "pathphone1" })
        #expect(binding.contact == "sip:pathphone1@10.99.1.2:5060")
        #expect(binding.path?.contains("sip:edge@127.0.0.1:") == true, "\(binding)")
    }

    @Test func sippRegistersOverTLSThroughSocatWithAPhoneCertificate() async throws {
        let kamailio = try await KamailioUnderTest.start()
        defer { kamailio.stop() }
        let relayPort = try FreePort.pick()
        let relay = try BackgroundTool.tlsRelay(listenPort: relayPort, tlsPort: kamailio.tlsPort)
        defer { relay.stop() }
        let run = try Self.sipp("127.0.0.1:\(relayPort)", scenario: "sipp-register", transport: "t1", calls: 3)
        #expect(run.outcome.status == 0, "sipp exit \(run.outcome.status): \(run.errors.prefix(2000)) \(relay.output.suffix(1000))")
        let bindings = try kamailio.bindings()
        #expect(Set(bindings.map(\.aor)) == ["phone1", "phone2", "phone3"], "\(bindings)")
        #expect(bindings.allSatisfy { $0.socket == "tls:127.0.0.1:\(kamailio.tlsPort)" }, "\(bindings)")
    }

    @Test func aClientWithoutACertificateCannotRegisterOverTLS() async throws {
        let kamailio = try await KamailioUnderTest.start()
        defer { kamailio.stop() }
        let request = NSTemporaryDirectory() + "register-\(UUID().uuidString).txt"
        try ("REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:9;branch=z9hG4bKanon;rport\r\n"
            + "From: <sip:anonymous@127.0.0.1>;tag=a\r\nTo: <sip:anonymous@127.0.0.1>\r\nCall-ID: anon\r\nCSeq: 1 REGISTER\r\n"
            + "Contact: <sip:anonymous@127.0.0.1:9;transport=tls>\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
            .write(toFile: request, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: request) }
        let outcome = try ExternalTool.run("/bin/bash", ["-c",
            "(cat \(request); sleep 1) | openssl s_client -connect 127.0.0.1:\(kamailio.tlsPort) -quiet -CAfile \(IntegrationPKI.path("ca.pem"))"],
            timeout: .seconds(15))
        #expect(!outcome.output.contains("SIP/2.0 200"), "\(outcome.output)")
        #expect(try kamailio.bindings().isEmpty)
    }

    @Test func baresipRegistersOverMutualTLSAndKamailioListsIt() async throws {
        let kamailio = try await KamailioUnderTest.start()
        defer { kamailio.stop() }
        // baresip unregisters when it quits, so the binding is read while it runs.
        let (trace, bindings) = try await TrunkRelayInteropTests.registerBaresip(toTLSPort: kamailio.tlsPort, until: kamailio, thenQuit: false)
        let binding = try #require(bindings.first, "no binding for 2001; baresip said: \(trace.suffix(3000))")
        #expect(binding.socket == "tls:127.0.0.1:\(kamailio.tlsPort)")
        #expect(binding.contact.hasPrefix("sip:2001") && binding.contact.contains("@127.0.0.1:") && binding.contact.contains("transport=tls"), "\(binding)")
    }

    /// The bench's load generator against the same Kamailio: every REGISTER answered and matched,
    /// one binding per user, over UDP and over one mutual-TLS connection.
    @Test(arguments: RegisterLoadTransport.allCases)
    func theRegisterLoadGeneratorGetsEveryRequestAnswered(transport: RegisterLoadTransport) async throws {
        let kamailio = try await KamailioUnderTest.start()
        defer { kamailio.stop() }
        let client = try TLSContext(configuration: TLSConfiguration(
            role: .client, certificateChainPath: IntegrationPKI.path("phone.pem"), privateKeyPath: IntegrationPKI.path("phone.key"),
            trustRootsPath: IntegrationPKI.path("ca.pem"), serverName: "edge.test"))
        let target = try SocketAddress(ipAddress: "127.0.0.1", port: transport == .udp ? kamailio.port : kamailio.tlsPort)
        let result = try await RegisterLoadGenerator.run(
            target: target, transport: transport, tlsContext: client, users: 50, requests: 500, window: 20)
        #expect(result.succeeded == 500 && result.failures == 0, "\(result)")
        #expect(result.latency(percentile: 0.5) > .zero && result.latency(percentile: 0.5) <= result.latency(percentile: 0.99))
        let bindings = try kamailio.bindings()
        #expect(Set(bindings.map(\.aor)) == Set((0..<50).map { "bench\($0)" }), "\(bindings.count) bindings")
        #expect(bindings.count == 50, "a refresh must replace its binding, not add one")
    }

    /// The bench's time limit: nothing is sent after it, every request sent is still answered and
    /// counted, and the result says the limit cut the run short.
    @Test func theRegisterLoadGeneratorStopsSendingAtItsTimeLimit() async throws {
        let kamailio = try await KamailioUnderTest.start()
        defer { kamailio.stop() }
        let target = try SocketAddress(ipAddress: "127.0.0.1", port: kamailio.port)
        let started = ContinuousClock.now
        let result = try await RegisterLoadGenerator.run(
            target: target, transport: .udp, users: 50, requests: 10_000_000, window: 20, timeLimit: .milliseconds(300))
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(result.timeLimited && result.requests > 0 && result.requests < 10_000_000, "\(result)")
        #expect(result.succeeded == result.requests && result.failures == 0, "\(result)")
    }

    @Test func theRegisterLoadGeneratorCountsUnansweredRequestsAsTimedOut() async throws {
        // A UDP port nobody listens on: every request times out, and none is lost from the count.
        let port = try FreePort.pick()
        let result = try await RegisterLoadGenerator.run(
            target: try SocketAddress(ipAddress: "127.0.0.1", port: port), transport: .udp,
            users: 4, requests: 6, window: 2, requestTimeout: .milliseconds(200))
        #expect(result.timedOut == 6 && result.succeeded == 0, "\(result)")
    }
}
