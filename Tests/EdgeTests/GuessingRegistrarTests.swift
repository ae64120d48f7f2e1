import Logging
import SIP
import Synchronization
import Testing

@testable import Edge

/// Issue 16 §3 through the registrar: guesses beyond the free ones are refused unchecked with the
/// answer a wrong password gets, lockouts are counted and logged at critical level, and the
/// secure phone with its certificate is never locked out by guessing over UDP.
@Suite struct GuessingRegistrarTests {
    let clock = TestClock()
    let lines = LogLines()

    func registrar() -> Registrar {
        let settings = RegistrarSettings(guessing: GuessingSettings(freeFailures: 2, baseBackOff: 5, maximumBackOff: 20, lockoutFailures: 4, lockoutSeconds: 600))
        return Registrar(
            settings: settings, hashing: RegistrarFixtures.hashing, ratePerSource: 1000, inventory: RegistrarFixtures.inventory,
            policy: RequestPolicy(capabilities: EdgeCapabilities()), journal: MemoryJournal(), restored: [],
            logger: Logger(label: "test") { [lines] _ in lines }, wallClock: { [clock] in clock.now })
    }

    func advance(_ seconds: Int64) { clock.advance(seconds) }

    /// One guess: challenge, answer.
    func guess(_ registrar: Registrar, line: String, password: String, from origin: RequestOrigin = RegistrarFixtures.udp) async throws -> SIPResponse {
        let request = RegistrarFixtures.register(line)
        let challenge = await registrar.handle(request, origin: origin)
        return await registrar.handle(try RegistrarFixtures.answering(request, challenge: challenge, username: line, password: password), origin: origin)
    }

    @Test func guessesPastTheFreeOnesAreRefusedUncheckedUntilTheBackOffEnds() async throws {
        let registrar = registrar()
        for _ in 0..<2 { #expect(try await guess(registrar, line: "3001", password: "0000").statusCode == 403) }
        // The right password now, too early: refused like a wrong one, without being checked.
        let early = try await guess(registrar, line: "3001", password: "s3cret")
        #expect(early.statusCode == 403)
        #expect(early.reasonPhrase == "Forbidden")
        #expect(registrar.statistics[.guessesRefused] == 1)
        #expect(registrar.statistics[.wrongCredentials] == 2)
        advance(5)
        #expect(try await guess(registrar, line: "3001", password: "s3cret").statusCode == 200)
        // Success clears the account: a later typo costs nothing.
        #expect(try await guess(registrar, line: "3001", password: "typo").statusCode == 403)
        advance(1)
        let source = RequestOrigin(flow: BindingFlow(transport: .udp, remoteAddress: "192.0.2.51", remotePort: 5060))
        #expect(try await guess(registrar, line: "3001", password: "s3cret", from: source).statusCode == 200)
    }

    @Test func aLockoutIsCountedAndLoggedAtCriticalLevel() async throws {
        let registrar = registrar()
        for _ in 0..<4 {
            #expect(try await guess(registrar, line: "3001", password: "1234").statusCode == 403)
            advance(30)
        }
        #expect(registrar.statistics[.lockouts] == 2)
        let critical = lines.entries.filter { $0.level == .critical }
        #expect(critical.map(\.message) == ["password guessing: account 3001 locked out", "password guessing: source 192.0.2.50 locked out"])
        // Locked: even the right password from a fresh address is refused until the lockout ends.
        let elsewhere = RequestOrigin(flow: BindingFlow(transport: .udp, remoteAddress: "192.0.2.77", remotePort: 5060))
        #expect(try await guess(registrar, line: "3001", password: "s3cret", from: elsewhere).statusCode == 403)
        advance(600)
        #expect(try await guess(registrar, line: "3001", password: "s3cret", from: elsewhere).statusCode == 200)
    }

    @Test func theSecurePhoneWithItsCertificateIsNeverLockedOut() async throws {
        let registrar = registrar()
        for _ in 0..<6 {
            _ = try await guess(registrar, line: "2001", password: "guess")
            advance(30)
        }
        #expect(registrar.statistics[.lockouts] == 2)
        let phone = await registrar.handle(
            RegistrarFixtures.register("2001", contacts: ["<sip:2001@192.0.2.60:40000;transport=tls>"]), origin: RegistrarFixtures.tls(["SEP001BD4AABBCC"]))
        #expect(phone.statusCode == 200)
    }
}

/// Collects log records for assertions.
final class LogLines: LogHandler, Sendable {
    struct Entry: Sendable {
        let level: Logger.Level
        let message: String
    }
    private let stored = Mutex<[Entry]>([])
    var entries: [Entry] { stored.withLock { $0 } }

    var metadata: Logger.Metadata {
        get { [:] }
        set {}
    }
    var logLevel: Logger.Level {
        get { .trace }
        set {}
    }
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { nil }
        set {}
    }

    func log(event: LogEvent) {
        stored.withLock { $0.append(Entry(level: event.level, message: "\(event.message)")) }
    }
}

/// Seconds the test moves by hand.
final class TestClock: Sendable {
    private let value = Mutex<Int64>(1_800_000_000)
    var now: Int64 { value.withLock { $0 } }
    func advance(_ seconds: Int64) { value.withLock { $0 += seconds } }
}
