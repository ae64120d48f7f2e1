import Logging
import PKI
import SIP
import Synchronization
import Testing

@testable import Edge

/// Issue 16 §2: every refusal an unauthenticated request can provoke looks the same for a
/// secure phone's line, a digest line and a line that does not exist: status, reason, the header
/// set and every value that does not echo the request, and the work done to decide.
@Suite struct EnumerationTests {
    let now: Int64 = 1_800_000_000

    /// The fixtures' phones, plus a secure phone that also has a digest account: over UDP that
    /// password must never work, and must not be seen to exist.
    static let inventory = try! DeviceInventory(
        RegistrarFixtures.inventory.devices + [
            Device(
                name: "SEP001BD4AABBEE", lines: [DeviceLine(number: "2003")], security: .encrypted,
                digest: DigestAccount(username: "2003", password: "tls-only"))
        ])

    /// Encrypted, authenticated, encrypted with a digest account, digest, unknown.
    static let lines = ["2001", "2002", "2003", "3001", "4999"]

    func registrar(hashing: DigestHashing = RegistrarFixtures.hashing, upstream: FakeUpstream? = nil) -> Registrar {
        let controller = upstream.map { _ in
            SurvivabilityController(settings: .init(misses: 2, successes: 1, holdDown: .zero), logger: .quiet, wallClock: { 0 })
        }
        return Registrar(
            // Guessing back-off out of the way: it is GuessingRegistrarTests' subject, and it too
            // treats every line alike.
            settings: RegistrarSettings(guessing: GuessingSettings(freeFailures: 1000, lockoutFailures: 1001)), hashing: hashing, ratePerSource: 1000, inventory: Self.inventory,
            policy: RequestPolicy(capabilities: EdgeCapabilities()), journal: MemoryJournal(), restored: [], upstream: upstream,
            upstreamDomain: upstream == nil ? nil : "cm.example", survivability: controller, logger: .quiet, wallClock: { [now] in now })
    }

    /// The same REGISTER for each line: only the user part differs.
    static func register(_ line: String) -> SIPRequest {
        let headers: SIPHeaders = [
            (.via, "SIP/2.0/UDP 192.0.2.50:5060;branch=z9hG4bKfixed"), (.maxForwards, "70"),
            (.from, "<sip:\(line)@branch.example>;tag=f1"), (.to, "<sip:\(line)@branch.example>"), (.callID, "scan-1"),
            (.cseq, "1 REGISTER"), (.contact, "<sip:\(line)@192.0.2.50:5060>"),
        ]
        return SIPRequest(method: .register, uri: try! URI(parsing: "sip:branch.example"), headers: headers)
    }

    /// The response as text with what must differ blanked: the line number the request carried,
    /// the random To tag and the nonce (checked apart to be of one form).
    static func normalised(_ response: SIPResponse, line: String) -> String {
        var text = String(decoding: response.serialized, as: UTF8.self)
        text = text.replacing("sip:\(line)@", with: "sip:LINE@")
        text = text.replacing(#/;tag=[^;>\r\n]+/#) { _ in ";tag=TAG" }
        text = text.replacing(#/nonce="[0-9a-f]{64}"/#) { _ in "nonce=NONCE" }
        return text
    }

    @Test func everyLineGetsTheSameChallenge() async throws {
        let registrar = registrar()
        var seen: [String] = []
        for line in Self.lines {
            let response = await registrar.handle(Self.register(line), origin: RegistrarFixtures.udp)
            #expect(response.statusCode == 401, "\(line)")
            #expect(response.reasonPhrase == "Unauthorized")
            let challenges = try response.headers.digestChallenges()
            #expect(challenges.map(\.realm) == ["outpost", "outpost"])
            #expect(challenges.allSatisfy { $0.nonce.utf8.count == 64 })
            seen.append(Self.normalised(response, line: line))
        }
        #expect(Set(seen).count == 1, "\(seen)")
        #expect(seen[0].contains("nonce=NONCE"))
        #expect(registrar.statistics[.challenged] == Self.lines.count)
        #expect(registrar.statistics[.tlsRequired] == 0)
    }

    /// A wrong password, and for the secure phone even its right digest password, over UDP.
    @Test func everyLineGetsTheSameRefusalOnceCredentialsAreChecked() async throws {
        let registrar = registrar()
        var seen: [String] = []
        for (line, password) in [("2001", "guess"), ("2002", "guess"), ("2003", "tls-only"), ("2003", "guess"), ("3001", "guess"), ("4999", "guess")] {
            let request = Self.register(line)
            let challenge = await registrar.handle(request, origin: RegistrarFixtures.udp)
            let answered = try RegistrarFixtures.answering(request, challenge: challenge, username: line, password: password)
            let response = await registrar.handle(answered, origin: RegistrarFixtures.udp)
            #expect(response.statusCode == 403, "\(line)")
            #expect(response.reasonPhrase == "Forbidden")
            seen.append(Self.normalised(response, line: line))
        }
        #expect(Set(seen).count == 1, "\(seen)")
        // Counted apart for the operator, who alone sees the counters.
        #expect(registrar.statistics[.tlsRequired] == 4)
        #expect(registrar.statistics[.wrongCredentials] == 2)
        #expect(registrar.bindings().isEmpty)
    }

    /// The dummy check: an unknown line, a secure phone's line, a wrong user name and a wrong
    /// password each cost the same hashing as a right answer, so timing does not tell them apart.
    @Test func refusingCostsTheSameHashingForEveryLine() async throws {
        let calls = Mutex(0)
        let real = RegistrarFixtures.hashing
        let counting = DigestHashing(
            provider: "counting",
            md5: { bytes throws(DigestHashingError) in
                calls.withLock { $0 += 1 }
                return try real.md5(bytes)
            },
            sha256: { bytes throws(DigestHashingError) in
                calls.withLock { $0 += 1 }
                return try real.sha256(bytes)
            },
            hmacSHA256: real.hmacSHA256)
        let registrar = registrar(hashing: counting)
        var costs: [String: Int] = [:]
        for (line, username, password) in [
            ("3001", "3001", "s3cret"), ("3001", "3001", "guess"), ("3001", "someone", "s3cret"), ("2003", "2003", "tls-only"),
            ("2001", "2001", "guess"), ("4999", "4999", "guess"),
        ] {
            let request = Self.register(line)
            let challenge = await registrar.handle(request, origin: RegistrarFixtures.udp)
            let answered = try RegistrarFixtures.answering(request, challenge: challenge, username: username, password: password)
            calls.withLock { $0 = 0 }
            _ = await registrar.handle(answered, origin: RegistrarFixtures.udp)
            costs["\(line)/\(username)/\(password)"] = calls.withLock { $0 }
        }
        #expect(Set(costs.values).count == 1, "\(costs)")
        #expect(costs["3001/3001/s3cret"] ?? 0 >= 3)
    }

    /// With the call manager up, a secure phone's line without its certificate is answered here
    /// as an unknown line is, not told `403 requires TLS` and not relayed.
    @Test func normalModeAnswersASecureLineOverUDPAsAnUnknownLine() async throws {
        let upstream = FakeUpstream()
        let registrar = registrar(upstream: upstream)
        #expect(registrar.mode == .normal)
        let secure = await registrar.handle(Self.register("2001"), origin: RegistrarFixtures.udp)
        let unknown = await registrar.handle(Self.register("4999"), origin: RegistrarFixtures.udp)
        #expect(secure.statusCode == 401)
        #expect(Self.normalised(secure, line: "2001") == Self.normalised(unknown, line: "4999"))
        #expect(upstream.received.withLock { $0 }.isEmpty)
    }

    /// The rightful phone over TLS with its certificate still registers, and a certificate that
    /// does not own the line is still told so (it proved who it is; the answer reveals nothing new).
    @Test func theSecurePhoneWithItsCertificateStillRegisters() async {
        let registrar = registrar()
        let response = await registrar.handle(Self.register("2003"), origin: RegistrarFixtures.tls(["SEP001BD4AABBEE"]))
        #expect(response.statusCode == 200)
        let other = await registrar.handle(Self.register("2003"), origin: RegistrarFixtures.tls(["SEP001BD4AABBCC"]))
        #expect(other.statusCode == 403)
        #expect(other.reasonPhrase.contains("does not own line 2003"))
    }
}
