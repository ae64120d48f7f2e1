import Edge
import Foundation
import Testing

@testable import Runtime
import SIPTransport
import SIP
import Logging
import Media

@Suite struct ConfigurationLoaderTests {
    @Test func embeddedDefaultIsTheInstalledFileAndMeansTheDefaults() throws {
        let installed = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("appliance/outpost.yaml")
        #expect(try String(contentsOf: installed, encoding: .utf8) == DefaultConfiguration.yaml)
        #expect(try ConfigurationLoader.load(yaml: DefaultConfiguration.yaml, file: "default") == OutpostConfiguration())
    }

    @Test func theTrunkAndItsUpstreamRefreshAreReadAndSummarised() throws {
        let yaml = """
            trunk:
              call_managers:
                - {transport: udp, address: 192.0.2.10}
                - {transport: tcp, address: 192.0.2.11, port: 5070}
              domain: cm.example
              upstream_refresh: 120
            devices:
              - {name: SEP001BD4AABBCC, security: encrypted, lines: ["2001"]}
            """
        let configuration = try ConfigurationLoader.load(yaml: yaml, file: "x.yaml")
        #expect(configuration.trunk?.upstreamRefresh == 120)
        #expect(configuration.trunk?.callManagers.count == 2)
        let summary = configuration.summary.joined(separator: "\n")
        #expect(summary.contains("trunk to udp:192.0.2.10:5060, tcp:192.0.2.11:5070 (in order of preference), domain cm.example"))
        #expect(summary.contains("at most 15.25 s"))
        #expect(summary.contains("refreshed upstream every 120 s"))
        #expect(summary.contains("SEP001BD4AABBCC encrypted, lines 2001"))
        #expect(throws: ConfigurationError.self) {
            try ConfigurationLoader.load(yaml: "trunk:\n  call_managers: [{address: 192.0.2.10}]\n  upstream_refresh: 1\n", file: "x.yaml")
        }
    }

    @Test func everyKeyIsRead() throws {
        let yaml = """
            sip:
              listen:
                - transport: tls
                  address: "::"
                  port: 5061
                  client_certificates: optional
              max_message_size: 8000
              idle_timeout: 60
              message_deadline: 4
              max_connections_per_address: 7
              server_name: Branch-42
            state_directory: /srv/outpost
            log:
              level: debug
            """
        let configuration = try ConfigurationLoader.load(yaml: yaml, file: "x.yaml")
        #expect(configuration.sip.listeners == [.init(transport: .tls, address: "::", port: 5061, clientCertificates: .optional)])
        #expect(configuration.sip.maximumMessageSize == 8000)
        #expect(configuration.sip.idleTimeoutSeconds == 60)
        #expect(configuration.sip.messageDeadlineSeconds == 4)
        #expect(configuration.sip.maximumConnectionsPerAddress == 7)
        #expect(OutpostConfiguration().sip.messageDeadlineSeconds == 10 && OutpostConfiguration().sip.maximumConnectionsPerAddress == 50)
        #expect(configuration.sip.serverName == "Branch-42")
        #expect(configuration.stateDirectory == "/srv/outpost")
        #expect(configuration.logLevel == .debug)
        #expect(try ConfigurationLoader.load(yaml: "", file: "empty.yaml") == OutpostConfiguration())
    }

    @Test(arguments: [
        ("sip:\n  lissen: []\n", 2, "sip.lissen", "unknown key"),
        ("sip:\n  listen:\n    - transport: sctp\n", 3, "sip.listen[0].transport", "'sctp' is not udp, tcp or tls"),
        ("sip:\n  listen:\n    - transport: udp\n      port: 70000\n", 4, "sip.listen[0].port", "70000 is outside 1…65535"),
        ("sip:\n  listen:\n    - transport: udp\n      address: edge.example.com\n", 4, "sip.listen[0].address", "not an IPv4 or IPv6 address"),
        ("sip:\n  listen:\n    - {transport: udp, port: 5060}\n    - {transport: udp, port: 5060}\n", 3, "sip.listen", "two listeners on the same socket"),
        ("sip:\n  max_message_size: lots\n", 2, "sip.max_message_size", "must be a whole number"),
        ("sip:\n  message_deadline: 0\n", 2, "sip.message_deadline", "is outside"),
        ("sip:\n  max_connections_per_address: 0\n", 2, "sip.max_connections_per_address", "is outside"),
        ("sip:\n  listen:\n    - {transport: udp, client_certificates: optional}\n", 3, "sip.listen[0].client_certificates", "only a tls listener"),
        ("sip:\n  tls:\n    client_certificates: maybe\n", 3, "sip.tls.client_certificates", "'maybe' is not required or optional"),
        ("log:\n  level: loud\n", 2, "log.level", "'loud' is not one of"),
        ("trunk_ipsec:\n  local: [192.0.2.1]\n  call_managers: [192.0.2.10]\n  suite: des\n", 4, "trunk_ipsec.suite", "des"),
        ("trunk_ipsec:\n  local: [192.0.2.1]\n", 2, "trunk_ipsec", "call_managers: at least one"),
        ("sip: [1, 2]\n", 1, "sip", "must be a mapping"),
        ("media:\n  port_min: 20000\n  port_max: 20002\n", 3, "media.port_max", "at least 4 ports"),
        ("media:\n  port_min: 80\n", 2, "media.port_min", "outside"),
        ("media:\n  address: media.example\n", 2, "media.address", "not an IPv4 or IPv6 address"),
        ("media:\n  replay_window: 16\n", 2, "media.replay_window", "outside"),
        ("media:\n  rtp_timout: 5\n", 2, "media.rtp_timout", "unknown key"),
        ("state_directory: /a\nstate_directory: /b\n", 2, "state_directory", "appears twice"),
        ("sip:\n  tls:\n    fips_mode: true\nregistrar:\n  digest_algorithms: [SHA-256, MD5]\n", 5, "registrar.digest_algorithms",
         "MD5 is not allowed in FIPS mode"),
        ("registrar:\n  digest_algorithms:\n    - SHA-256\n    - md5\nsip:\n  tls: {fips_mode: true}\n", 4, "registrar.digest_algorithms",
         "MD5 is not allowed in FIPS mode"),
        ("registrar:\n  guessing:\n    free_failures: 5\n    lockout_failures: 5\n", 3, "registrar.guessing", "lockout_failures must be greater"),
        ("registrar:\n  guessing:\n    lockout_seconds: 0\n", 3, "registrar.guessing.lockout_seconds", "outside"),
        ("registrar:\n  guessing:\n    lockout: 5\n", 3, "registrar.guessing.lockout", "unknown key"),
    ])
    func faultsNameFileLineKeyAndReason(yaml: String, line: Int, key: String, reason: String) {
        do {
            _ = try ConfigurationLoader.load(yaml: yaml, file: "edge.yaml")
            Issue.record("accepted: \(yaml)")
        } catch {
            #expect(error.file == "edge.yaml")
            #expect(error.line == line, "\(error)")
            #expect(error.key == key, "\(error)")
            #expect(error.reason.contains(reason), "\(error)")
        }
    }

    @Test func theGuessingKeysAreReadIntoTheRegistrarsSettings() throws {
        let yaml = "registrar:\n  guessing:\n    free_failures: 2\n    base_backoff: 3\n    max_backoff: 90\n    lockout_failures: 6\n    lockout_seconds: 900\n"
        let guessing = try ConfigurationLoader.load(yaml: yaml, file: "edge.yaml").registrar.guessing
        #expect(guessing == GuessingSettings(freeFailures: 2, baseBackOff: 3, maximumBackOff: 90, lockoutFailures: 6, lockoutSeconds: 900))
        #expect(try ConfigurationLoader.load(yaml: DefaultConfiguration.yaml, file: "default").registrar.guessing == GuessingSettings())
    }

    @Test func theMediaSectionIsReadIntoTheRelaysSettings() throws {
        let yaml = """
            media:
              address: 192.0.2.1
              port_min: 20000
              port_max: 20999
              threads: 2
              quarantine: 5
              rtp_timeout: 30
              hold_timeout: 600
              latching_window: 3
              replay_window: 256
            """
        let media = try ConfigurationLoader.load(yaml: yaml, file: "x.yaml").media
        let settings = media.relaySettings
        #expect(settings.bindHost == "192.0.2.1" && settings.ports == 20_000...20_999 && media.threads == 2)
        #expect(settings.quarantine == .seconds(5) && settings.mediaTimeout == .seconds(30) && settings.holdTimeout == .seconds(600))
        #expect(settings.latchingWindow == .seconds(3) && settings.replayWindow == 256)
        let summary = try ConfigurationLoader.load(yaml: yaml, file: "x.yaml").summary.joined(separator: "\n")
        #expect(summary.contains("media relay 192.0.2.1 ports 20000-20999 on 2 threads, RTP timeout 30 s (held 600 s)"))
    }

    @Test func theCallsSectionIsReadIntoTheCallLayersSettings() throws {
        let yaml = """
            calls:
              ring_timeout: 45
              max_calls: 300
              session_expires: 600
              min_session_expires: 120
              trunk_media: srtp-optional
            """
        let calls = try ConfigurationLoader.load(yaml: yaml, file: "x.yaml").calls
        #expect(calls.trunkMedia == .srtpOptional)
        let settings = calls.settings(mediaAddress: "0.0.0.0", serverName: "Outpost", trunk: nil)
        #expect(settings.ringTimeout == .seconds(45) && settings.maximumCalls == 300)
        #expect(settings.sessionExpires == 600 && settings.minimumSessionExpires == 120)
        for (bad, why) in [
            ("calls:\n  min_session_expires: 30\n", "calls.min_session_expires"),
            ("calls:\n  session_expires: 100\n  min_session_expires: 200\n", "below min_session_expires"),
            ("calls:\n  trunk_media: clear\n", "is not srtp, srtp-optional or rtp"),
            ("calls:\n  rings: 3\n", "rings"),
        ] {
            #expect {
                try ConfigurationLoader.load(yaml: bad, file: "x.yaml")
            } throws: { error in
                "\(error)".contains(why)
            }
        }
    }

    @Test func theAdminSectionIsReadAndItsMistakesNamed() throws {
        let yaml = "admin:\n  address: 10.0.0.5\n  port: 9200\n  max_connections: 4\n  request_deadline: 3\n"
        let configuration = try ConfigurationLoader.load(yaml: yaml, file: "x.yaml")
        #expect(configuration.admin.address == "10.0.0.5" && configuration.admin.port == 9200)
        #expect(configuration.admin.maximumConnections == 4 && configuration.admin.requestDeadlineSeconds == 3)
        #expect(configuration.summary.contains("  admin http://10.0.0.5:9200/metrics"))
        #expect(try ConfigurationLoader.load(yaml: "admin:\n  enabled: false\n", file: "x.yaml").summary.contains("  admin off"))
        for (bad, why) in [
            ("admin:\n  address: localhost\n", "admin.address"),
            ("admin:\n  port: 70000\n", "admin.port"),
            ("admin:\n  password: x\n", "password"),
            ("admin:\n  request_deadline: 0\n", "admin.request_deadline"),
        ] {
            #expect {
                try ConfigurationLoader.load(yaml: bad, file: "x.yaml")
            } throws: { error in
                "\(error)".contains(why)
            }
        }
    }

    /// Under sip.tls.fips_mode the registrar offers SHA-256 only unless told otherwise (and it
    /// cannot be told MD5: see faultsNameFileLineKeyAndReason).
    @Test func fipsModeDefaultsTheDigestAlgorithmsToSHA256() throws {
        let fips = "sip:\n  tls:\n    fips_mode: true\n"
        #expect(try ConfigurationLoader.load(yaml: fips, file: "x.yaml").registrar.digestAlgorithms == [.sha256])
        #expect(try ConfigurationLoader.load(yaml: fips + "registrar:\n  realm: r\n", file: "x.yaml").registrar.digestAlgorithms == [.sha256])
        let explicit = fips + "registrar:\n  digest_algorithms: [SHA-256]\n"
        #expect(try ConfigurationLoader.load(yaml: explicit, file: "x.yaml").registrar.digestAlgorithms == [.sha256])
        #expect(try ConfigurationLoader.load(yaml: "registrar:\n  realm: r\n", file: "x.yaml").registrar.digestAlgorithms == [.sha256, .md5])
    }

    @Test func brokenYAMLIsAConfigurationError() {
        #expect(throws: ConfigurationError.self) { try ConfigurationLoader.load(yaml: "sip: [\n", file: "bad.yaml") }
    }
}

@Suite struct ConfigurationProblemsTests {
    /// check-config's promise: every problem of a file at once, each with its file, line, key and why.
    @Test func everyProblemOfAFileIsReportedAtOnceInTheOrderOfTheFile() throws {
        let yaml = """
            sip:
              listen:
                - {transport: udp, address: 0.0.0.0, port: 5060}
                - {transport: tcp, address: 0.0.0.0, port: 5070}
                - {transport: tls, address: 127.0.0.1, port: 5070}
              tls:
                certificate: /nonexistent/edge.pem
                key: /nonexistent/edge.key
                trust_roots: /nonexistent/roots.pem
              idle_timeot: 30
            devices:
              - {name: a, lines: ["2001"], security: secure}
              - {name: b, lines: ["2002"], security: non-secure, colour: red}
            dial_plan:
              - {name: bad, pattern: "9[", target: trunk}
              - {name: worse, pattern: "9", target: nowhere}
            tftp: {port: 5060, address: 0.0.0.0}
            calls: {ring_timeout: 1}
            log: {level: chatty}
            """
        var caught: ConfigurationError?
        do { _ = try ConfigurationLoader.load(yaml: yaml, file: "edge.yaml") } catch { caught = error }
        let problems = try #require(caught).all
        let keys = problems.map(\.key)
        for expected in [
            "sip.idle_timeot", "devices[0].security", "devices[1].colour", "dial_plan[0].pattern", "dial_plan[1].target", "calls.ring_timeout",
            "log.level", "sip.listen[2] (tls)", "tftp.port", "sip.tls.certificate", "sip.tls.key", "sip.tls.trust_roots",
        ] {
            #expect(keys.contains(expected), "\(expected) in \(keys)")
        }
        #expect(problems.allSatisfy { $0.file == "edge.yaml" })
        let lines = problems.compactMap(\.line)
        #expect(lines == lines.sorted(), "in the order of the file")
        #expect(problems.first { $0.key == "devices[0].security" }?.line == 12)
        #expect(problems.first { $0.key == "sip.listen[2] (tls)" }?.reason == "TCP port 5070 on 127.0.0.1 is already sip.listen[1] (tcp)'s")
        #expect(problems.first { $0.key == "tftp.port" }?.reason == "UDP port 5060 on 0.0.0.0 is already sip.listen[0] (udp)'s")
        #expect(problems.first { $0.key == "sip.tls.key" }?.reason == "/nonexistent/edge.key does not exist")
        #expect("\(caught!)".split(separator: "\n").count == problems.count, "one line a problem")
    }
}
