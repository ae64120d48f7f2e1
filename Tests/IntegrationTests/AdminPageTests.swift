import Edge
import Foundation
import PKI
import Runtime
import Testing

/// The status page as a person gets it: Debian's chromium, headless, logs in and renders the
/// live state of a running edge with a registered phone; without the login it gets 401.
@Suite(.serialized) struct AdminPageTests {
    static let password = "branch-office-secret"

    @Test func chromiumRendersTheLiveStateBehindTheLogin() async throws {
        let chromium = try #require(ExternalTool.path("chromium"), "chromium is installed by appliance/install-deps")
        let hash = try PasswordHash.make(password: Self.password, iterations: 10_000)
        let (edge, port) = try await AdminMetricsTests.adminEdge { $0.admin.passwordHash = hash }
        defer { Task { await edge.stop() } }
        let work = try RegistrarInteropTests.workDirectory()
        defer { try? FileManager.default.removeItem(atPath: work) }
        let (registered, log) = try RegistrarInteropTests.sipp(
            ["127.0.0.1:\(edge.port)", "-sf", "\(RegistrarInteropTests.fixtures)/sipp-register-digest.xml", "-t", "u1", "-s", "3001", "-au", "3001",
             "-ap", "s3cret", "-m", "1"],
            work: work)
        #expect(registered.status == 0, "\(log.suffix(1500))")

        let curl = try #require(ExternalTool.path("curl"))
        let anonymous = try ExternalTool.run(curl, ["-s", "-i", "--max-time", "10", "http://127.0.0.1:\(port)/"], timeout: .seconds(15)).output
        #expect(anonymous.hasPrefix("HTTP/1.1 401"), "\(anonymous.prefix(300))")
        #expect(anonymous.contains("WWW-Authenticate: Basic realm=\"Outpost\""))
        let wrong = try ExternalTool.run(curl, ["-s", "-i", "--max-time", "10", "-u", "admin:guess", "http://127.0.0.1:\(port)/"], timeout: .seconds(15)).output
        #expect(wrong.hasPrefix("HTTP/1.1 401"), "\(wrong.prefix(300))")

        let profile = work + "/chromium-profile"
        let url = "http://admin:\(Self.password)@127.0.0.1:\(port)/"
        let common = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(profile)", "--window-size=1280,1000"]
        let dom = try ExternalTool.run(chromium, common + ["--dump-dom", url], timeout: .seconds(60))
        #expect(dom.output.contains("<table id=\"registrations\">"), "\(dom.output.suffix(2000))")
        #expect(dom.output.contains("<td>3001</td><td>soft-3001</td>"), "the registered phone, live")
        #expect(dom.output.contains("Registrations (1)"))
        #expect(dom.output.contains("id=\"mode\""))
        #expect(dom.output.contains("0 of 3 devices registered") == false && dom.output.contains("1 of 3 devices registered"), "the status rows")

        let screenshot = NSTemporaryDirectory() + "outpost-status-page-\(UUID().uuidString).png"
        defer { try? FileManager.default.removeItem(atPath: screenshot) }
        _ = try ExternalTool.run(chromium, common + ["--screenshot=\(screenshot)", url], timeout: .seconds(60))
        let png = try #require(FileManager.default.contents(atPath: screenshot), "chromium wrote the screenshot")
        #expect(png.count > 10_000 && png.starts(with: [0x89, 0x50, 0x4E, 0x47]), "a PNG of the rendered page (\(png.count) bytes)")
        if let keep = ProcessInfo.processInfo.environment["OUTPOST_KEEP_SCREENSHOT"] { try png.write(to: URL(fileURLWithPath: keep)) }

        let metrics = try AdminMetricsTests.scrape(port).output
        #expect(AdminMetricsTests.value("outpost_admin_login_failures_total", in: metrics) == 1, "the wrong login; asking without one is no attempt")
        #expect((AdminMetricsTests.value(#"outpost_admin_http_requests_total{status="200"}"#, in: metrics) ?? 0) >= 2)
    }

    /// Over HTTPS with the edge's certificate: metrics for anyone who trusts it, the page for a
    /// client certificate from the trusted PKI that is on the list, nobody else.
    @Test func overTLSAListedClientCertificateLogsInWithoutAPassword() async throws {
        let curl = try #require(ExternalTool.path("curl"))
        let (edge, port) = try await AdminMetricsTests.adminEdge { configuration in
            configuration.sip.tls = IntegrationPKI.edgeTLS()
            configuration.admin.tls = true
            configuration.admin.certificateNames = ["SEP001122334455"]
        }
        defer { Task { await edge.stop() } }
        func get(_ path: String, _ extra: [String]) throws -> String {
            try ExternalTool.run(
                curl, ["-s", "-i", "--max-time", "10", "--cacert", IntegrationPKI.path("ca.pem")] + extra + ["https://127.0.0.1:\(port)\(path)"],
                timeout: .seconds(15)
            ).output
        }
        #expect(try get("/metrics", []).hasPrefix("HTTP/1.1 200"), "metrics over HTTPS")
        #expect(try get("/", []).hasPrefix("HTTP/1.1 401"), "no certificate, no password: no page")
        let listed = try get("/", ["--cert", IntegrationPKI.path("phone.pem"), "--key", IntegrationPKI.path("phone.key")])
        #expect(listed.hasPrefix("HTTP/1.1 200") && listed.contains("<table id=\"status\">"), "\(listed.prefix(300))")
        let other = try get("/", ["--cert", IntegrationPKI.path("phone-b.pem"), "--key", IntegrationPKI.path("phone-b.key")])
        #expect(other.hasPrefix("HTTP/1.1 401"), "a trusted certificate not on the list: \(other.prefix(200))")
        let stranger = try get("/", ["--cert", IntegrationPKI.path("stranger.pem"), "--key", IntegrationPKI.path("stranger.key")])
        #expect(!stranger.contains("<table"), "a certificate from an untrusted CA never gets the page")
        let plain = try ExternalTool.run(curl, ["-s", "-i", "--max-time", "5", "http://127.0.0.1:\(port)/metrics"], timeout: .seconds(10)).output
        #expect(!plain.contains("outpost_"), "no plain HTTP on the TLS listener")
    }
}
