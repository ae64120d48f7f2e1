import Foundation
import OutpostBench

#if canImport(Glibc)
import Glibc
#endif

/// A headless baresip softphone a test drives through calls: its own configuration directory, one
/// account, a sine tone as microphone, what it hears recorded to WAV, and commands and events over
/// baresip's `ctrl_tcp` module (JSON in netstrings on a TCP port on 127.0.0.1).
///
/// Debian 12's baresip is 1.0.0, which shapes the setup:
/// - `aufile` is a source only (its player came in a later release), so the received audio is
///   recorded by the `sndfile` filter into `snd_path` as `dump-<time>-dec.wav` (and what was
///   sent as `…-enc.wav`), one pair per call, at the codec's rate (8 kHz for G.711). No player
///   module is loaded: baresip then starts none, and still decodes through the filter;
/// - there is no `sip_verify_server`, only `sip_certificate` (certificate and key in one file)
///   and `sip_cafile`, and its TLS client accepts any server certificate (as
///   BaresipCallRegistrationTests records);
/// - `sip_listen` binds UDP and TCP on its port and TLS on the port above it; RTP is bound to the
///   wildcard address whatever the configuration, though SDP names 127.0.0.1 (`net_interface`);
/// - ctrl_tcp sends events only to clients already connected, so the account is created over it;
/// - the menu's `hangup` on a ringing incoming call answers `486 Rejected`, no other code;
/// - baresip inherits the test runner's signal mask, in which SIGTERM may be blocked, so it is
///   stopped with SIGKILL (BackgroundTool).
final class BaresipPhone {
    enum Transport: String, Sendable {
        case udp, tcp, tls
    }

    enum MediaEncryption: String, Sendable {
        /// SDES-keyed SRTP (RFC 4568) or nothing: an offer or answer without crypto is refused.
        case srtpMandatory = "srtp-mand"
        /// SRTP offered as RTP/AVP with crypto attributes, RTP accepted.
        case srtpOptional = "srtp"
    }

    /// Where a phone runs: this process's network on 127.0.0.1, or a namespace of a lab on one of
    /// its addresses (the control port is then reached from a thread inside the namespace).
    struct Network: @unchecked Sendable {
        var address: String
        var launcher: [String]
        var connect: @Sendable (@escaping @Sendable () throws -> BaresipControl) throws -> BaresipControl

        static let loopback = Network(address: "127.0.0.1", launcher: [], connect: { try $0() })

        static func inside(_ lab: NetworkNamespaceLab, _ namespace: NetworkNamespaceLab.Namespace, address: String) -> Network {
            Network(address: address, launcher: lab.launcher(namespace), connect: { make in try lab.onThread(in: namespace, make) })
        }
    }

    /// An account in baresip's `accounts` line syntax.
    struct Account {
        /// The address of record, e.g. `sip:2001@edge.test`.
        var aor: String
        var transport: Transport?
        /// Where requests go instead of the AOR's host, e.g. `sip:127.0.0.1:5061;transport=tls`.
        var outboundProxy: String?
        /// Seconds between REGISTERs; 0 registers nowhere (a peer-to-peer phone).
        var registrationInterval = 0
        var mediaEncryption: MediaEncryption?
        var authentication: (user: String, password: String)?

        var line: String {
            var line = "<\(aor)\(transport.map { ";transport=\($0.rawValue)" } ?? "")>"
            if let authentication { line += ";auth_user=\(authentication.user);auth_pass=\(authentication.password)" }
            if let outboundProxy { line += ";outbound=\"\(outboundProxy)\"" }
            line += ";regint=\(registrationInterval)"
            if let mediaEncryption { line += ";mediaenc=\(mediaEncryption.rawValue)" }
            // Calls are answered by the test, never by baresip on its own.
            return line + ";answermode=manual"
        }
    }

    /// The phone's TLS client identity and the CA it trusts for servers, as PEM files.
    struct TLSOptions {
        var certificate: String
        var key: String
        var caFile: String
    }

    /// The modules every phone loads, from Debian's baresip-core.
    static let moduleDirectory = "/usr/lib/baresip/modules"
    static let modules = ["g711", "srtp", "aufile", "sndfile", "ctrl_tcp", "menu"]

    /// Why a phone cannot run on this machine, or nil when it can.
    static var missingRequirement: String? {
        guard ExternalTool.path("baresip") != nil else { return "baresip is not installed (appliance/install-deps installs baresip-core)" }
        let missing = modules.filter { !FileManager.default.fileExists(atPath: "\(moduleDirectory)/\($0).so") }
        return missing.isEmpty ? nil : "baresip lacks the modules \(missing) in \(moduleDirectory)"
    }

    let name: String
    let account: Account
    let toneFrequency: Double
    let home: String
    private let tls: TLSOptions?
    private let requestedSIPPort: Int?
    private let lifetime: Duration
    private let network: Network
    private var process: BackgroundTool?
    private var control: BaresipControl?
    /// The SIP port (UDP and TCP; TLS is one above), known once started.
    private(set) var sipPort = 0

    /// - Parameters:
    ///   - name: for failure messages.
    ///   - toneFrequency: the sine the phone sends as its microphone.
    ///   - sipPort: nil picks a free one.
    ///   - lifetime: after which baresip is killed whatever the test does.
    init(
        name: String, account: Account, toneFrequency: Double, tls: TLSOptions? = nil, sipPort: Int? = nil,
        lifetime: Duration = .seconds(90), network: Network = .loopback
    ) throws {
        self.network = network
        self.name = name
        self.account = account
        self.toneFrequency = toneFrequency
        self.tls = tls
        requestedSIPPort = sipPort
        self.lifetime = lifetime
        home = NSTemporaryDirectory() + "baresip-phone-\(name)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: "\(home)/recordings", withIntermediateDirectories: true)
        // 30 s of tone; aufile stops sending at the end of its file, so it must outlast any test call.
        try PCMRecording.sine(frequency: toneFrequency, seconds: 30).wav.write(to: URL(fileURLWithPath: "\(home)/tone.wav"))
        if let tls {
            // baresip 1.0.0 reads certificate and key from the one file `sip_certificate` names.
            let identity = try String(contentsOfFile: tls.certificate, encoding: .utf8) + String(contentsOfFile: tls.key, encoding: .utf8)
            try identity.write(toFile: "\(home)/identity.pem", atomically: true, encoding: .utf8)
        }
    }

    deinit { stop() }

    /// `sip:<user>@<address>:<port>`, where another phone reaches this one without a registrar.
    func directURI(user: String) -> String { "sip:\(user)@\(network.address):\(sipPort)" }

    /// Launches baresip, connects to its control port once it reports itself ready, and only then
    /// creates the account (`uanew`): ctrl_tcp sends events only to a connected client, and an
    /// account read from an `accounts` file at startup registers before anyone listens. Free ports
    /// are picked and released before baresip binds them, so another process may take one in
    /// between: a start that fails on a port in use is retried on new ones.
    func start(timeout: Duration = .seconds(10)) async throws {
        guard let baresip = ExternalTool.path("baresip") else { throw failure("baresip is not installed") }
        for _ in 1...3 {
            sipPort = try requestedSIPPort ?? FreePort.pick()
            let controlPort = try FreePort.pick()
            try configuration(controlPort: controlPort).write(toFile: "\(home)/config", atomically: true, encoding: .utf8)
            // -s: the SIP trace goes to the log, whose tail every failure message carries.
            let process = try BackgroundTool(network.launcher + [baresip, "-f", home, "-s"], timeout: lifetime)
            self.process = process
            let deadline = ContinuousClock.now + timeout
            while !process.output.contains("baresip is ready.") {
                if !process.process.isRunning {
                    if process.output.contains("Address already in use") && requestedSIPPort == nil { break }
                    throw failure("baresip exited (status \(process.process.terminationStatus)) before it was ready")
                }
                if ContinuousClock.now > deadline { throw failure("baresip was not ready within \(timeout)") }
                try await Task.sleep(for: .milliseconds(20))
            }
            guard process.process.isRunning else {
                process.stop()
                continue
            }
            do {
                control = try network.connect { try BaresipControl(port: controlPort) }
            } catch {
                throw failure("cannot connect to ctrl_tcp on 127.0.0.1:\(controlPort): \(error)")
            }
            try await command("uanew", account.line)
            return
        }
        throw failure("baresip found its ports taken three times")
    }

    private func configuration(controlPort: Int) -> String {
        var lines = [
            "sip_listen \(network.address):\(sipPort)",
            "ctrl_tcp_listen 127.0.0.1:\(controlPort)",
            // An address, not `lo`: 1.0.0 looks interfaces up by a name lookup that fails for lo.
            // It also makes the address the one in SDP.
            "net_interface \(network.address)",
            "audio_source aufile,\(home)/tone.wav",
            "snd_path \(home)/recordings",
            "module_path \(Self.moduleDirectory)",
        ]
        if let tls {
            lines += ["sip_certificate \(home)/identity.pem", "sip_cafile \(tls.caFile)"]
        }
        // No account module: without it baresip reads no accounts file (and writes no example one).
        lines += Self.modules.map { "module \($0).so" }
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: Commands

    func dial(_ uri: String) async throws {
        _ = try await command("dial", uri)
    }

    /// Answers the incoming call (200 OK).
    func answer() async throws {
        _ = try await command("accept")
    }

    /// Ends the call: BYE when established, CANCEL while ringing out.
    func hangup() async throws {
        _ = try await command("hangup")
    }

    /// Refuses the incoming call: baresip 1.0.0's menu answers `486 Rejected`, a code it does not
    /// let one choose.
    func reject() async throws {
        _ = try await command("hangup")
    }

    /// Puts the call on hold with a re-INVITE (`a=sendonly`); baresip's menu registers the
    /// command only while a call exists, so `/help` does not list it.
    func hold() async throws {
        _ = try await command("hold")
    }

    func resume() async throws {
        _ = try await command("resume")
    }

    /// Sends a command and waits for its response; a response with `ok: false` is an error
    /// carrying baresip's text.
    @discardableResult
    func command(_ name: String, _ parameters: String? = nil, timeout: Duration = .seconds(5)) async throws -> String {
        let control = try runningControl()
        let token = try control.send(command: name, parameters: parameters)
        let response = try await wait(for: "the response to \(name)", timeout: timeout) { control.response(token: token) }
        guard response.ok else { throw failure("\(name) \(parameters ?? "") was refused: \(response.data ?? "no reason")") }
        return response.data ?? ""
    }

    // MARK: Events

    /// Waits for the next unconsumed event of `kind` and consumes it; events that came before the
    /// call are kept, so none is missed between a command and the wait. While waiting for a call
    /// event other than CALL_CLOSED, an unconsumed CALL_CLOSED fails at once with its reason.
    @discardableResult
    func waitEvent(_ kind: BaresipEvent.Kind, timeout: Duration = .seconds(10)) async throws -> BaresipEvent {
        let control = try runningControl()
        return try await wait(for: kind.rawValue, timeout: timeout) {
            if let event = control.takeEvent(kind) { return event }
            if kind.isCallProgress, let closed = control.peekEvent(.closed) {
                throw self.failure("the call closed (\(closed.parameter ?? "no reason")) while waiting for \(kind.rawValue)")
            }
            return nil
        }
    }

    /// Waits for CALL_CLOSED and returns its reason: `486 Rejected` for a refusal,
    /// `Connection reset by user` for the side that hung up, `… by peer` for the other.
    func waitClosed(timeout: Duration = .seconds(10)) async throws -> String {
        try await waitEvent(.closed, timeout: timeout).parameter ?? ""
    }

    func waitRegistered(timeout: Duration = .seconds(10)) async throws {
        let control = try runningControl()
        _ = try await wait(for: BaresipEvent.Kind.registered.rawValue, timeout: timeout) {
            if let failed = control.takeEvent(.registrationFailed) {
                throw self.failure("registration failed: \(failed.parameter ?? "no reason")")
            }
            return control.takeEvent(.registered)
        }
    }

    // MARK: Recordings

    /// What the phone received in its latest call, decoded. sndfile names recordings by the
    /// second the call's audio started, so two calls within one second share a file.
    func receivedAudio() throws -> PCMRecording { try latestRecording(suffix: "-dec.wav") }

    /// What the phone sent in its latest call, after encoding.
    func sentAudio() throws -> PCMRecording { try latestRecording(suffix: "-enc.wav") }

    private func latestRecording(suffix: String) throws -> PCMRecording {
        let directory = "\(home)/recordings"
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(suffix) }.sorted()
        guard let latest = names.last else { throw failure("no recording *\(suffix) in \(directory)") }
        return try PCMRecording(contentsOfFile: "\(directory)/\(latest)")
    }

    // MARK: Lifetime

    /// Kills baresip and removes its directory; safe to call more than once.
    func stop() {
        control?.close()
        control = nil
        process?.stop()
        process = nil
        try? FileManager.default.removeItem(atPath: home)
    }

    /// Every event baresip has sent so far, consumed or not.
    var events: [BaresipEvent] { control?.allEvents ?? [] }

    /// baresip's output so far, the SIP trace included.
    var output: String { process?.output ?? "" }

    /// The last part of the output and the events, for failure messages.
    var diagnostics: String {
        let events = events.map { "\($0.type)(\($0.parameter ?? ""))" }.joined(separator: " ")
        let problems = control?.problemReport.map { "\ncontrol: \($0)" }.joined() ?? ""
        return "events: \(events)\(problems)\n--- baresip \(name) output (tail) ---\n\(output.suffix(3000))"
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    private func failure(_ reason: String) -> Failure {
        Failure(description: "baresip phone \(name): \(reason)\n\(diagnostics)")
    }

    private func runningControl() throws -> BaresipControl {
        guard let control, let process, process.process.isRunning else { throw failure("baresip is not running") }
        return control
    }

    private func wait<Value>(for what: String, timeout: Duration, _ check: () throws -> Value?) async throws -> Value {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let value = try check() { return value }
            guard let process, process.process.isRunning else { throw failure("baresip exited while waiting for \(what)") }
            if let control, control.isClosed { throw failure("the control connection ended while waiting for \(what)") }
            if ContinuousClock.now > deadline { throw failure("no \(what) within \(timeout)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// One event of baresip's control stream: `{"event":true,"class":"call","type":"CALL_CLOSED",
/// "accountaor":…,"direction":"outgoing","peeruri":…,"id":…,"param":"486 Rejected"}`.
struct BaresipEvent: Equatable, Sendable {
    enum Kind: String, Sendable {
        case incoming = "CALL_INCOMING"
        case ringing = "CALL_RINGING"
        case progress = "CALL_PROGRESS"
        case established = "CALL_ESTABLISHED"
        case closed = "CALL_CLOSED"
        /// SRTP keyed; the parameter is `<index>,<media>,<suite>`, e.g. `0,audio,AES_CM_128_HMAC_SHA1_80`.
        case mediaEncryption = "CALL_MENC"
        /// The first RTP packet arrived.
        case rtpEstablished = "CALL_RTPESTAB"
        /// An SDP offer or answer arrived (`param` says which): also how a re-INVITE shows.
        case remoteSDP = "CALL_REMOTE_SDP"
        case registered = "REGISTER_OK"
        case registrationFailed = "REGISTER_FAIL"

        /// The steps of a call before it ends, which a CALL_CLOSED makes unreachable.
        var isCallProgress: Bool {
            switch self {
            case .incoming, .ringing, .progress, .established, .mediaEncryption, .rtpEstablished: true
            case .closed, .remoteSDP, .registered, .registrationFailed: false
            }
        }
    }

    let type: String
    let eventClass: String
    let callID: String?
    let direction: String?
    let peerURI: String?
    let accountAOR: String?
    /// The reason of CALL_CLOSED, the peer of CALL_INCOMING, the suite of CALL_MENC.
    let parameter: String?
}

/// baresip's control protocol: each message a netstring (`<length>:<bytes>,`) holding JSON;
/// commands are `{"command","params","token"}`, answered by `{"response":true,"ok","data","token"}`,
/// and events arrive in between.
enum BaresipControlMessage: Equatable {
    case event(BaresipEvent)
    case response(token: String, ok: Bool, data: String?)

    private struct Wire: Decodable {
        let event: Bool?
        let response: Bool?
        let type: String?
        let `class`: String?
        let id: String?
        let direction: String?
        let peeruri: String?
        let accountaor: String?
        let param: String?
        let ok: Bool?
        let data: String?
        let token: String?
    }

    struct MalformedMessage: Error, CustomStringConvertible {
        let description: String
    }

    init(json: Data) throws {
        let wire = try JSONDecoder().decode(Wire.self, from: json)
        if wire.event == true, let type = wire.type {
            self = .event(
                BaresipEvent(
                    type: type, eventClass: wire.class ?? "", callID: wire.id, direction: wire.direction,
                    peerURI: wire.peeruri, accountAOR: wire.accountaor, parameter: wire.param))
        } else if wire.response == true, let token = wire.token {
            self = .response(token: token, ok: wire.ok ?? false, data: wire.data)
        } else {
            throw MalformedMessage(description: "neither an event nor a response: \(String(decoding: json, as: UTF8.self))")
        }
    }

    static func command(_ name: String, parameters: String?, token: String) throws -> [UInt8] {
        var body: [String: String] = ["command": name, "token": token]
        body["params"] = parameters
        return Netstring.encode(Array(try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes])))
    }
}

/// Netstrings (djb): `<decimal length>:<bytes>,`, split out of a TCP byte stream.
struct Netstring {
    struct FramingError: Error, CustomStringConvertible {
        let description: String
    }

    private var buffer: [UInt8] = []

    static func encode(_ payload: [UInt8]) -> [UInt8] {
        Array("\(payload.count):".utf8) + payload + [UInt8(ascii: ",")]
    }

    /// Appends received bytes and returns every payload they complete.
    mutating func feed(_ bytes: some Sequence<UInt8>) throws -> [[UInt8]] {
        buffer += bytes
        var payloads: [[UInt8]] = []
        while let colon = buffer.firstIndex(of: UInt8(ascii: ":")) {
            let digits = buffer[..<colon]
            guard !digits.isEmpty, digits.count <= 9, digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
                  let length = Int(String(decoding: digits, as: UTF8.self))
            else { throw FramingError(description: "bad netstring length \(String(decoding: digits.prefix(12), as: UTF8.self).debugDescription)") }
            let end = colon + 1 + length
            guard buffer.count > end else { break }
            guard buffer[end] == UInt8(ascii: ",") else { throw FramingError(description: "netstring of \(length) bytes lacks its comma") }
            payloads.append(Array(buffer[(colon + 1)..<end]))
            buffer.removeSubrange(...end)
        }
        if buffer.count > 10, !buffer.prefix(10).contains(UInt8(ascii: ":")) {
            throw FramingError(description: "no netstring length within 10 bytes")
        }
        return payloads
    }
}

/// The TCP connection to ctrl_tcp: a thread reads and sorts messages into events and responses,
/// which the phone's async waits poll.
final class BaresipControl: @unchecked Sendable {
    private let lock = NSLock()
    /// Closed in its deinit, once the reader has let go of this control.
    private let socket: LoopbackSocket
    private var isOpen = true
    private var events: [BaresipEvent] = []
    private var consumed: Set<Int> = []
    private var responses: [String: (ok: Bool, data: String?)] = [:]
    private var nextToken = 0
    /// Why the connection ended, or which messages could not be read: for failure messages.
    private var problems: [String] = []

    init(port: Int) throws {
        // No receive timeout: the reader blocks until baresip sends or the connection ends.
        socket = try LoopbackSocket(udp: false, port: port, receiveTimeout: 0)
        Thread.detachNewThread { [self] in read() }
    }

    /// Reads until baresip closes the connection, `close()` shuts it down, or the stream stops
    /// being netstrings; then closes it.
    private func read() {
        var framing = Netstring()
        var chunk = [UInt8](repeating: 0, count: 65_536)
        var ending = "baresip closed the control connection"
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(socket.descriptor, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { break }
            let payloads: [[UInt8]]
            do {
                payloads = try framing.feed(chunk[..<count])
            } catch {
                ending = "control stream broken: \(error)"
                break
            }
            for payload in payloads {
                do {
                    let message = try BaresipControlMessage(json: Data(payload))
                    lock.withLock {
                        switch message {
                        case .event(let event): events.append(event)
                        case .response(let token, let ok, let data): responses[token] = (ok, data)
                        }
                    }
                } catch {
                    // Kept going: one message the harness cannot read need not end the phone.
                    lock.withLock { problems.append("unreadable message (\(error))") }
                }
            }
        }
        lock.withLock {
            problems.append(ending)
            isOpen = false
        }
    }

    /// Whether the connection has ended; waits then fail at once instead of at their timeout.
    var isClosed: Bool { lock.withLock { !isOpen } }

    var problemReport: [String] { lock.withLock { problems } }

    func send(command name: String, parameters: String?) throws -> String {
        try lock.withLock {
            nextToken += 1
            let token = "\(name)-\(nextToken)"
            let bytes = try BaresipControlMessage.command(name, parameters: parameters, token: token)
            guard isOpen, socket.send(bytes) else { throw BaresipPhone.Failure(description: "ctrl_tcp connection closed, \(name) not sent") }
            return token
        }
    }

    func response(token: String) -> (ok: Bool, data: String?)? {
        lock.withLock { responses.removeValue(forKey: token) }
    }

    func takeEvent(_ kind: BaresipEvent.Kind) -> BaresipEvent? {
        lock.withLock {
            guard let index = events.indices.first(where: { !consumed.contains($0) && events[$0].type == kind.rawValue }) else { return nil }
            consumed.insert(index)
            return events[index]
        }
    }

    func peekEvent(_ kind: BaresipEvent.Kind) -> BaresipEvent? {
        lock.withLock { events.indices.first { !consumed.contains($0) && events[$0].type == kind.rawValue }.map { events[$0] } }
    }

    var allEvents: [BaresipEvent] { lock.withLock { events } }

    /// Wakes the reader, which then ends.
    func close() {
        shutdown(socket.descriptor, Int32(SHUT_RDWR))
    }
}
