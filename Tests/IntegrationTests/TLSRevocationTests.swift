import Edge
import Foundation
import Logging
import NIOCore
import NIOPosix
import PKI
import Runtime
import Synchronization
import TLS
import Testing

/// Revocation reaching connections already open: a phone whose certificate is revoked while it
/// is connected is disconnected at the next TLS reload, and only that phone.
@Suite(.serialized) struct TLSRevocationTests {
    /// Keeps the notice-level lines with their metadata.
    struct Capture: LogHandler {
        let lines: Lines
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .notice

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            guard event.level == .notice else { return }
            let fields = (event.metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            lines.value.withLock { $0.append("\(event.message) \(fields)") }
        }
    }

    final class Lines: Sendable {
        let value = Mutex<[String]>([])
        var all: [String] { value.withLock { $0 } }
    }

    /// What a client connection received, and whether it ended.
    final class Received: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let text = Mutex("")
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            text.withLock { $0 += String(buffer: buffer) }
        }
        var all: String { text.withLock { $0 } }
    }

    struct Phone {
        let channel: any Channel
        let received: Received
    }

    func connect(_ edge: EdgeUnderTest, pki: String, identity: String) async throws -> Phone {
        let context = try TLSContext(
            configuration: TLSConfiguration(
                role: .client, certificateChainPath: "\(pki)/\(identity).pem", privateKeyPath: "\(pki)/\(identity).key",
                trustRootsPath: "\(pki)/ca.pem", serverName: "edge.test"))
        let received = Received()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([TLSHandler(context: context), received])
                }
            }
            .connect(host: "127.0.0.1", port: edge.tlsPort).get()
        return Phone(channel: channel, received: received)
    }

    func register(_ phone: Phone, line: String, port: Int) async throws {
        let request = "REGISTER sip:edge.test SIP/2.0\r\n"
            + "Via: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bK\(UUID().uuidString.prefix(8));rport\r\n"
            + "From: <sip:\(line)@edge.test>;tag=r\(line)\r\nTo: <sip:\(line)@edge.test>\r\nCall-ID: reg-\(UUID().uuidString)\r\n"
            + "CSeq: 1 REGISTER\r\nMax-Forwards: 70\r\nContact: <sip:\(line)@127.0.0.1:5061;transport=tls>\r\nExpires: 600\r\n"
            + "Content-Length: 0\r\n\r\n"
        try await phone.channel.writeAndFlush(phone.channel.allocator.buffer(string: request))
        for _ in 0..<100 where !phone.received.all.contains("SIP/2.0 200") {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(phone.received.all.contains("SIP/2.0 200 OK"), "\(phone.received.all)")
    }

    /// Waits for the connection to end, giving up after `seconds` (then it is still open).
    func closed(_ channel: any Channel, within seconds: Int = 10) async -> Bool {
        for _ in 0..<(seconds * 20) where channel.isActive { try? await Task.sleep(for: .milliseconds(50)) }
        return !channel.isActive
    }

    func shell(_ command: String) throws {
        let outcome = try ExternalTool.run("/bin/bash", ["-c", command], timeout: .seconds(30))
        #expect(outcome.status == 0, "\(command): \(outcome.output)")
    }

    @Test func aPhoneRevokedWithOpensslCAWhileConnectedIsDisconnectedAtTheReloadAndOthersStay() async throws {
        // A private copy: the shared test PKI must not change under the other tests.
        let pki = NSTemporaryDirectory() + "outpost-live-revoke-\(UUID().uuidString)"
        try FileManager.default.copyItem(atPath: IntegrationPKI.directory, toPath: pki)
        defer { try? FileManager.default.removeItem(atPath: pki) }
        // A second phone from the same CA, which stays trusted.
        try shell(
            "cd \(pki) && export SAN=URI:sip:2002@edge.test && openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
                + " -keyout phone2.key -out phone2.csr -subj /CN=SEP00AABBCCDDEE 2>/dev/null"
                + " && openssl ca -batch -config ca.cnf -extensions client -cert ca.pem -keyfile ca.key -in phone2.csr -out phone2.pem -notext -days 30 2>/dev/null")
        let tls = OutpostConfiguration.TLS(
            certificate: "\(pki)/server.pem", key: "\(pki)/server.key", trustRoots: "\(pki)/trusted.pem",
            crls: ["\(pki)/crl.pem", "\(pki)/rsa-crl.pem"], reloadIntervalSeconds: 3600)
        let lines = Lines()
        let logger = Logger(label: "edge") { _ in Capture(lines: lines) }
        let edge = try await EdgeUnderTest.start(tls: tls, logger: logger) { configuration in
            configuration.devices = [
                Device(name: "SEP001122334455", lines: [DeviceLine(number: "2001")], security: .authenticated),
                Device(name: "SEP00AABBCCDDEE", lines: [DeviceLine(number: "2002")], security: .authenticated),
            ]
        }
        let revoked = try await connect(edge, pki: pki, identity: "phone")
        let kept = try await connect(edge, pki: pki, identity: "phone2")
        try await register(revoked, line: "2001", port: edge.tlsPort)
        try await register(kept, line: "2002", port: edge.tlsPort)
        let registrar = try #require(edge.runtime.registrar)
        #expect(registrar.bindings(for: "2001").first?.flow.liveConnection != nil)
        #expect(edge.runtime.liveTLS.count == 2)

        // Nothing changed: a reload closes nothing.
        #expect(edge.runtime.reloadTLS() == 0)
        #expect(revoked.channel.isActive)

        try shell(
            "cd \(pki) && export SAN=URI:x && openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -revoke phone.pem 2>/dev/null"
                + " && openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -gencrl -out crl.pem 2>/dev/null")
        #expect(edge.runtime.reloadTLS() == 1)

        #expect(await closed(revoked.channel), "the revoked phone's connection is still open")
        #expect(kept.channel.isActive, "the other phone's connection was closed")
        #expect(edge.runtime.liveTLS.closed == 1)
        #expect(edge.runtime.liveTLS.closedByReason == ["certificate revoked": 1])
        #expect(edge.runtime.liveTLS.count == 1)
        let line = lines.all.first { $0.contains("no longer verifies") }
        let logged = try #require(line, "\(lines.all)")
        #expect(logged.contains("SEP001122334455"), "\(logged)")
        #expect(logged.contains("sip:2001@edge.test"), "\(logged)")
        #expect(logged.contains("reason=certificate revoked"), "\(logged)")
        #expect(logged.contains("issuer=CN=Outpost Test CA"), "\(logged)")
        #expect(logged.range(of: #"serial=[0-9A-F]{4,}"#, options: .regularExpression) != nil, "\(logged)")
        // The binding's flow is gone; the other phone's is not.
        #expect(registrar.bindings(for: "2001").first?.flow.liveConnection == nil)
        #expect(registrar.bindings(for: "2002").first?.flow.liveConnection != nil)
        // `outpost show sip` counts it.
        let shown = try await Task.detached { try ControlClient(stateDirectory: edge.stateDirectory).show("sip", json: false) }.value
        #expect(shown.contains("tls.closed_distrusted"), "\(shown)")
        #expect(shown.range(of: #"tls\.closed_distrusted\s+1"#, options: .regularExpression) != nil, "\(shown)")

        // A new connection with the revoked certificate is refused at the handshake.
        let again = try await connect(edge, pki: pki, identity: "phone")
        #expect(await closed(again.channel), "a revoked certificate completed a new handshake")
        #expect(edge.runtime.tlsStatistics.failures["certificate revoked"] == 1, "\(edge.runtime.tlsStatistics.failures)")
        #expect(kept.channel.isActive)

        try? await kept.channel.close()
        await edge.stop()
    }

    /// The same with the edge's own CA, revoked as `outpost pki revoke` does it: through the PKI
    /// store in the state directory, whose index and CRL the reload watches.
    @Test func aPhoneRevokedInTheEdgesOwnPKIWhileConnectedIsDisconnectedAtTheReload() async throws {
        let lines = Lines()
        let logger = Logger(label: "edge") { _ in Capture(lines: lines) }
        let edge = try await EdgeUnderTest.start(tls: OutpostConfiguration.TLS(reloadIntervalSeconds: 3600), logger: logger) { configuration in
            configuration.pki = OutpostConfiguration.PKI(names: ["edge.test"], addresses: ["127.0.0.1"])
            configuration.devices = [
                Device(name: "SEP001122334455", lines: [DeviceLine(number: "2001")], security: .authenticated),
                Device(name: "SEP00AABBCCDDEE", lines: [DeviceLine(number: "2002")], security: .authenticated),
            ]
        }
        let files = NSTemporaryDirectory() + "outpost-pki-revoke-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: files, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: files) }
        let store = PKIStore(stateDirectory: edge.stateDirectory)
        for (identity, name, line) in [("phone", "SEP001122334455", "2001"), ("phone2", "SEP00AABBCCDDEE", "2002")] {
            let issued = try store.issueDevice(name: name, key: .generate(.ecP256), uri: "sip:\(line)@edge.test")
            try issued.certificate.pemEncoded().write(toFile: "\(files)/\(identity).pem", atomically: true, encoding: .utf8)
            let key = try #require(issued.privateKey)
            try key.pkcs8PEM().write(toFile: "\(files)/\(identity).key", atomically: true, encoding: .utf8)
            try issued.authority.pemEncoded().write(toFile: "\(files)/ca.pem", atomically: true, encoding: .utf8)
        }
        let revoked = try await connect(edge, pki: files, identity: "phone")
        let kept = try await connect(edge, pki: files, identity: "phone2")
        try await register(revoked, line: "2001", port: edge.tlsPort)
        try await register(kept, line: "2002", port: edge.tlsPort)
        #expect(edge.runtime.reloadTLS() == 0)

        _ = try store.revoke(device: "SEP001122334455")
        #expect(edge.runtime.reloadTLS() == 1)
        #expect(await closed(revoked.channel), "the revoked phone's connection is still open")
        #expect(kept.channel.isActive, "the other phone's connection was closed")
        #expect(edge.runtime.liveTLS.closedByReason == ["certificate revoked": 1])
        #expect(lines.all.contains { $0.contains("no longer verifies") && $0.contains("SEP001122334455") }, "\(lines.all)")
        let registrar = try #require(edge.runtime.registrar)
        #expect(registrar.bindings(for: "2001").first?.flow.liveConnection == nil)
        #expect(registrar.bindings(for: "2002").first?.flow.liveConnection != nil)

        try? await kept.channel.close()
        await edge.stop()
    }
}
