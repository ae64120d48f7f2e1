import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The failover drill in namespaces: phones ─ edge ─ hq, Kamailio in hq as the call
/// manager, the real `outpost` binary in edge. Phones register through the edge; the WAN link
/// goes down; the edge must become their registrar within interval × misses + 0.5 s without any
/// phone re-registering; the WAN comes back; after the hold-down the edge hands the bindings back,
/// including one made during the outage.
@Suite(.serialized, .enabled(if: NetworkNamespaceLab.available, "network namespaces need root and iproute2"))
struct FailoverTests {
    static let interval = 1.0
    static let misses = 3

    @Test func wanOutageFailsOverAndBackWithoutLosingAPhone() async throws {
        let lab = try NetworkNamespaceLab.create()
        defer { lab.destroy() }
        let kamailio = try await KamailioUnderTest.start(address: lab.hqAddress, port: 5060, tlsPort: 5061, in: (lab, .hq))
        defer { kamailio.stop() }
        let state = NSTemporaryDirectory() + "outpost-failover-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: state) }
        let config = state + "/outpost.yaml"
        try """
            sip:
              listen:
                - {transport: udp, address: \(lab.edgePhonesAddress), port: 5060}
            trunk:
              call_managers:
                - {transport: udp, address: \(lab.hqAddress), port: 5060}
              options_interval: \(Int(Self.interval))
              failover_misses: \(Self.misses)
              failback_successes: 2
              hold_down: 3
            registrar:
              digest_algorithms: [MD5]
            devices:
            \((1...3).map { "  - {name: phone\($0), lines: [phone\($0)], security: non-secure, digest: {username: phone\($0), password: pw}}" }.joined(separator: "\n"))
            tftp: {enabled: false}
            state_directory: \(state)
            log: {level: info}
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let edge = try BackgroundEdge(launcher: lab.launcher(.edge), config: config, log: state + "/edge.log")
        defer { edge.kill() }
        try await BackgroundEdge.waitFor("the edge's control socket", timeout: .seconds(20)) { try BackgroundEdge.show("trunk", config: config)?["mode"] as? String == "normal" }

        // Normal mode: two phones register through the edge; Kamailio decides and holds them with the edge in Path.
        let phones = lab.launcher(.phones)
        let target = "\(lab.edgePhonesAddress):5060"
        let local = ["-i", lab.phonesAddress]
        let registered = try KamailioPeerTests.sipp(target, scenario: "sipp-register", calls: 1, extra: local, launcher: phones)
        #expect(registered.outcome.status == 0, "\(registered.errors.prefix(2000))")
        let upstream = try kamailio.bindings()
        #expect(upstream.map(\.aor) == ["phone1"], "\(upstream)")
        #expect(upstream.first?.path?.contains(lab.edgeWANAddress) == true, "\(upstream)")
        let kept = try #require(try BackgroundEdge.show("registrations", config: config)?["bindings"] as? [[String: Any]])
        #expect(kept.map { $0["address_of_record"] as? String } == ["phone1"])
        #expect(kept.first?["accepted_upstream"] as? Bool == true)

        // The WAN goes down.
        let outage = ContinuousClock.now
        try lab.setWAN(up: false)
        try await BackgroundEdge.waitFor("failover", timeout: .seconds(10)) { try BackgroundEdge.show("trunk", config: config)?["mode"] as? String == "survivable" }
        let detection = outage.duration(to: .now)
        let bound = Duration.seconds(Self.interval * Double(Self.misses) + 0.5)
        print("failover: the edge was the registrar \(detection) after the WAN went down (bound \(bound))")
        #expect(detection <= bound, "failover took \(detection), more than interval × misses + 0.5 s")

        // The phone registered before the outage is still known: it need not register again.
        let survived = try #require(try BackgroundEdge.show("registrations", config: config)?["bindings"] as? [[String: Any]])
        #expect(survived.map { $0["address_of_record"] as? String } == ["phone1"])

        // The edge answers OPTIONS and REGISTER (now with its own digest) from the phones itself.
        let options = try KamailioPeerTests.sipp(target, scenario: "sipp-options", extra: local, launcher: phones)
        #expect(options.outcome.status == 0, "\(options.errors.prefix(1000))")
        let local2 = try KamailioPeerTests.sipp(
            target, scenario: "sipp-register-digest", extra: local + ["-s", "phone2", "-au", "phone2", "-ap", "pw"], launcher: phones)
        #expect(local2.outcome.status == 0, "\(local2.errors.prefix(2000))")
        print("failover: OPTIONS and REGISTER answered locally \(outage.duration(to: .now)) after the WAN went down")

        // The WAN comes back: after 2 answered keep-alives and the 3 s hold-down, the edge hands back.
        let recovery = ContinuousClock.now
        try lab.setWAN(up: true)
        try await BackgroundEdge.waitFor("failback", timeout: .seconds(20)) { try BackgroundEdge.show("trunk", config: config)?["mode"] as? String == "normal" }
        let failback = recovery.duration(to: .now)
        print("failback: registrations handed back \(failback) after the WAN came back (2 keep-alives + 3 s hold-down)")
        #expect(failback >= .seconds(3), "the hold-down was not respected: \(failback)")
        let handedBack = try kamailio.bindings()
        #expect(Set(handedBack.map(\.aor)) == ["phone1", "phone2"], "\(handedBack)")
        let trunk = try #require(try BackgroundEdge.show("trunk", config: config))
        let history = try #require((trunk["state"] as? [String: Any])?["history"] as? [[String: Any]])
        #expect(history.compactMap { $0["to"] as? String } == ["survivable", "failback", "normal"], "\(history)")
        #expect((history.last?["cause"] as? String)?.contains("2 addresses of record re-registered upstream, 0 failed") == true, "\(history)")
    }
}
