import Edge
import Foundation
import Runtime
import Testing

/// The admin listener as Prometheus and a hostile client see it: `/metrics` of a running edge,
/// fetched by curl and checked by Prometheus's own promtool, and requests no scraper sends.
@Suite(.serialized) struct AdminMetricsTests {
    static func adminEdge(_ configure: @escaping @Sendable (inout OutpostConfiguration) -> Void = { _ in }) async throws -> (EdgeUnderTest, Int) {
        let edge = try await EdgeUnderTest.start { configuration in
            RegistrarInteropTests.inventory(&configuration)
            configuration.admin.enabled = true
            configuration.admin.port = 0
            configure(&configuration)
        }
        let port = try #require(try await edge.adminPort(), "the admin listener bound a port")
        return (edge, port)
    }

    static func scrape(_ port: Int, path: String = "/metrics") throws -> ExternalTool.Outcome {
        let curl = try #require(ExternalTool.path("curl"), "curl is installed by appliance/install-deps")
        return try ExternalTool.run(curl, ["-sS", "--max-time", "10", "http://127.0.0.1:\(port)\(path)"], timeout: .seconds(15))
    }

    /// The exposition of `text` as promtool judges it: nil when it has nothing to say.
    static func promtoolComplaints(_ text: String) throws -> String? {
        let promtool = try #require(ExternalTool.path("promtool"), "promtool (Debian's prometheus) is installed by appliance/install-deps")
        let file = NSTemporaryDirectory() + "metrics-\(UUID().uuidString).txt"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let outcome = try ExternalTool.run("/bin/sh", ["-c", "\(promtool) check metrics < \(file)"], timeout: .seconds(30))
        return outcome.status == 0 && outcome.output.isEmpty ? nil : "exit \(outcome.status): \(outcome.output)"
    }

    /// The value of the sample whose line starts with `series` (name and labels as written).
    static func value(_ series: String, in text: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
    }

    @Test func aRunningEdgesMetricsAreWhatPrometheusReadsAndFollowTheEdge() async throws {
        let (edge, port) = try await Self.adminEdge()
        defer { Task { await edge.stop() } }
        let before = try Self.scrape(port)
        #expect(before.status == 0, "\(before.output)")
        #expect(try Self.promtoolComplaints(before.output) == nil)
        #expect(Self.value(#"outpost_registrations{transport="udp",state="registered"}"#, in: before.output) == 0)
        #expect(Self.value(#"outpost_registrar_mode{mode="survivable"}"#, in: before.output) == 1)
        #expect(Self.value("outpost_inventory_devices", in: before.output) == 3)

        let work = try RegistrarInteropTests.workDirectory()
        defer { try? FileManager.default.removeItem(atPath: work) }
        let (outcome, log) = try RegistrarInteropTests.sipp(
            ["127.0.0.1:\(edge.port)", "-sf", "\(RegistrarInteropTests.fixtures)/sipp-register-digest.xml", "-t", "u1", "-s", "3001", "-au", "3001",
             "-ap", "s3cret", "-m", "1"],
            work: work)
        #expect(outcome.status == 0, "\(log.suffix(2000))")

        let after = try Self.scrape(port)
        #expect(try Self.promtoolComplaints(after.output) == nil)
        #expect(Self.value(#"outpost_registrations{transport="udp",state="registered"}"#, in: after.output) == 1)
        #expect(Self.value("outpost_registered_devices", in: after.output) == 1)
        #expect(Self.value(#"outpost_registrar_events_total{event="registered"}"#, in: after.output) == 1)
        #expect(Self.value(#"outpost_registrar_events_total{event="challenged"}"#, in: after.output) == 1)
        #expect(Self.value(#"outpost_sip_responses_total{class="4xx"}"#, in: after.output) == 1)
        #expect(Self.value(#"outpost_sip_responses_total{class="2xx"}"#, in: after.output) == 1)
        #expect(Self.value(#"outpost_admin_http_requests_total{status="200"}"#, in: after.output) == 1, "the earlier scrape, counted")
        #expect(after.output.contains("# TYPE outpost_calls_active gauge"))
        #expect(after.output.contains("# TYPE outpost_media_srtp_authentication_failures_total counter"))
    }

    @Test func requestsNoScraperSendsGetAClearAnswerAndTheListenerGoesOn() async throws {
        let (edge, port) = try await Self.adminEdge { configuration in
            configuration.admin.maximumConnections = 4
            configuration.admin.requestDeadlineSeconds = 1
        }
        defer { Task { await edge.stop() } }
        func exchange(_ request: String) throws -> String {
            let socket = try LoopbackSocket(udp: false, port: port, receiveTimeout: 3)
            socket.send(request)
            return socket.receive() ?? ""
        }
        #expect(try exchange("GARBAGE\r\n\r\n").hasPrefix("HTTP/1.1 400"))
        let post = try exchange("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        #expect(post.hasPrefix("HTTP/1.1 405"))
        #expect(post.contains("Allow: GET, HEAD"))
        #expect(try exchange("GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello").hasPrefix("HTTP/1.1 413"))
        let unknown = try exchange("GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(unknown.hasPrefix("HTTP/1.1 404"))
        #expect(unknown.contains("/metrics"))
        let head = try exchange("HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(head.hasPrefix("HTTP/1.1 200"))
        #expect(!head.contains("# TYPE"), "HEAD has no body")
        // 200 KB of headers: refused, not buffered.
        let huge = "GET /metrics HTTP/1.1\r\nHost: x\r\n" + String(repeating: "X-Filler: \(String(repeating: "a", count: 1_000))\r\n", count: 200) + "\r\n"
        let oversized = try LoopbackSocket(udp: false, port: port, receiveTimeout: 3)
        oversized.send(huge)
        let answer = oversized.receive() ?? ""
        #expect(answer.hasPrefix("HTTP/1.1 431"), "\(answer.prefix(200))")
        #expect(oversized.peerClosed())

        // Past max_connections, connections are closed at once; the held ones are closed once
        // request_deadline (1 s here) passes with their request unfinished.
        try await Task.sleep(for: .milliseconds(300))
        let held = try (0..<4).map { _ in try LoopbackSocket(udp: false, port: port, receiveTimeout: 3) }
        for socket in held { socket.send("GET /metr") }
        try await Task.sleep(for: .milliseconds(300))
        let refused = try LoopbackSocket(udp: false, port: port, receiveTimeout: 2)
        #expect(refused.peerClosed())
        let started = ContinuousClock.now
        for socket in held { #expect(socket.peerClosed()) }
        #expect(ContinuousClock.now - started < .seconds(3))
        try await Task.sleep(for: .milliseconds(300))

        let metrics = try Self.scrape(port)
        #expect(metrics.status == 0)
        #expect(Self.value(#"outpost_admin_http_requests_total{status="404"}"#, in: metrics.output) == 1)
        #expect(Self.value(#"outpost_admin_http_requests_total{status="405"}"#, in: metrics.output) == 1)
        #expect(Self.value(#"outpost_admin_http_requests_total{status="413"}"#, in: metrics.output) == 1)
        #expect(Self.value(#"outpost_admin_http_requests_total{status="431"}"#, in: metrics.output) == 1)
        #expect((Self.value("outpost_admin_http_connections_refused_total", in: metrics.output) ?? 0) >= 1)
        #expect(Self.value("outpost_admin_http_deadline_closes_total", in: metrics.output) == 4)
        #expect(try Self.promtoolComplaints(metrics.output) == nil)
    }

    @Test func aPortTakenByAnotherProgramLeavesTheEdgeRunningWithoutMetrics() async throws {
        let (first, port) = try await Self.adminEdge()
        defer { Task { await first.stop() } }
        let second = try await EdgeUnderTest.start { configuration in
            configuration.admin.enabled = true
            configuration.admin.port = port
        }
        defer { Task { await second.stop() } }
        #expect(try await second.adminPort() == nil)
        let socket = try LoopbackSocket(udp: true, port: second.port)
        socket.send(SIPProbe.options(port: second.port))
        #expect(socket.receive()?.hasPrefix("SIP/2.0 200") == true, "SIP goes on without the admin listener")
    }
}
