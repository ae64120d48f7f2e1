import Edge
import Foundation
import OutpostBench
import Runtime
import Testing
import TestRequirementSupport

/// The call harness proved against baresip itself, without the edge: phone A (440 Hz) calls
/// phone B (1000 Hz) peer to peer on 127.0.0.1, so that a later failure through the B2BUA is the
/// B2BUA's and not the harness's.
@Suite(.serialized, .timeLimit(.minutes(1))) struct BaresipCallHarnessTests {
    static let toneOfA = 440.0
    static let toneOfB = 1000.0

    /// Two phones, not yet started; each test stops them whatever happens.
    static func phones(
        encryptionOfA: BaresipPhone.MediaEncryption? = nil, encryptionOfB: BaresipPhone.MediaEncryption? = nil
    ) throws -> (a: BaresipPhone, b: BaresipPhone)? {
        if let reason = BaresipPhone.missingRequirement {
            TestRequirement.unmet(reason)
            return nil
        }
        let a = try BaresipPhone(name: "A", account: .init(aor: "sip:a@127.0.0.1", mediaEncryption: encryptionOfA), toneFrequency: toneOfA)
        let b = try BaresipPhone(name: "B", account: .init(aor: "sip:b@127.0.0.1", mediaEncryption: encryptionOfB), toneFrequency: toneOfB)
        return (a, b)
    }

    /// Starts both phones and has A dial B; returns B's CALL_INCOMING once A hears it ring.
    @discardableResult
    static func ring(_ a: BaresipPhone, _ b: BaresipPhone) async throws -> BaresipEvent {
        try await a.start()
        try await b.start()
        try await a.dial(b.directURI(user: "b"))
        let incoming = try await b.waitEvent(.incoming)
        #expect(incoming.peerURI == "sip:a@127.0.0.1")
        #expect(incoming.direction == "incoming")
        try await a.waitEvent(.ringing)
        return incoming
    }

    /// A dials B, B rings and answers; returns once both sides are established.
    static func establish(_ a: BaresipPhone, _ b: BaresipPhone) async throws {
        let incoming = try await ring(a, b)
        try await b.answer()
        let established = try await a.waitEvent(.established)
        #expect(established.direction == "outgoing")
        #expect(established.callID == incoming.callID, "one dialog, seen from both ends")
        try await b.waitEvent(.established)
    }

    /// Each phone must have sent its own tone and heard the other's, for most of the call.
    static func expectEachHeardTheOther(_ a: BaresipPhone, _ b: BaresipPhone, seconds: Double) throws {
        for speaker in [a, b] {
            let sent = try #require(ToneAnalysis(speaker.sentAudio(), candidates: [toneOfA, toneOfB]), "\(speaker.diagnostics)")
            #expect(sent.dominantFrequency == speaker.toneFrequency, "\(speaker.name) sent \(sent)")
        }
        for (listener, expected) in [(a, toneOfB), (b, toneOfA)] {
            let heard = try #require(ToneAnalysis(listener.receivedAudio(), candidates: [toneOfA, toneOfB]), "\(listener.diagnostics)")
            #expect(heard.dominantFrequency == expected, "\(listener.name) heard \(heard)")
            // G.711 quantisation noise leaves a pure tone well above 90 % of the energy.
            #expect(heard.dominantShare > 0.9, "\(listener.name) heard \(heard)")
            #expect(heard.nonSilentFraction > 0.9, "\(listener.name) heard \(heard)")
            #expect(heard.duration > seconds * 0.8, "\(listener.name) heard \(heard)")
        }
    }

    /// Connects, carries audio both ways for three seconds, and ends with a BYE both sides report.
    /// - Parameters:
    ///   - offerProfile: the transport protocol of A's `m=audio` line.
    ///   - offerHasCrypto: whether A's offer carries `a=crypto` (SDES keys).
    ///   - keyed: whether both ends then run SRTP (CALL_MENC) rather than RTP.
    static func callCarriesTonesBothWays(
        a encryptionOfA: BaresipPhone.MediaEncryption?, b encryptionOfB: BaresipPhone.MediaEncryption?,
        offerProfile: String, offerHasCrypto: Bool, keyed: Bool
    ) async throws {
        guard case let (a, b)? = try phones(encryptionOfA: encryptionOfA, encryptionOfB: encryptionOfB) else { return }
        defer {
            a.stop()
            b.stop()
        }
        try await establish(a, b)
        try await a.waitEvent(.rtpEstablished)
        try await b.waitEvent(.rtpEstablished)
        try await Task.sleep(for: .seconds(3))
        try await a.hangup()
        #expect(try await a.waitClosed() == "Connection reset by user")
        #expect(try await b.waitClosed() == "Connection reset by peer")
        // The recordings are complete (their WAV headers written) once the call has closed.
        try expectEachHeardTheOther(a, b, seconds: 3)
        #expect(b.output.contains(try Regex("m=audio \\d+ \(offerProfile) ")), "\(b.diagnostics)")
        #expect(b.output.contains("a=crypto:") == offerHasCrypto, "\(b.diagnostics)")
        for phone in [a, b] {
            let suites = phone.events.filter { $0.type == BaresipEvent.Kind.mediaEncryption.rawValue }.map(\.parameter)
            #expect(suites == (keyed ? ["0,audio,AES_CM_128_HMAC_SHA1_80"] : []), "\(phone.diagnostics)")
        }
    }

    @Test func aPlainRTPCallCarriesEachPhonesToneToTheOther() async throws {
        try await Self.callCarriesTonesBothWays(a: nil, b: nil, offerProfile: "RTP/AVP", offerHasCrypto: false, keyed: false)
    }

    @Test func aMandatorySRTPCallIsKeyedWithSDESAndCarriesEachPhonesTone() async throws {
        try await Self.callCarriesTonesBothWays(
            a: .srtpMandatory, b: .srtpMandatory, offerProfile: "RTP/SAVP", offerHasCrypto: true, keyed: true)
    }

    @Test func optionalSRTPOnBothSidesIsKeyedOverTheRTPProfile() async throws {
        try await Self.callCarriesTonesBothWays(
            a: .srtpOptional, b: .srtpOptional, offerProfile: "RTP/AVP", offerHasCrypto: true, keyed: true)
    }

    /// A phone without SRTP ignores the crypto attributes and answers plain RTP, which the
    /// optional offerer accepts.
    @Test func optionalSRTPFallsBackToRTPWithAPlainPhone() async throws {
        try await Self.callCarriesTonesBothWays(a: .srtpOptional, b: nil, offerProfile: "RTP/AVP", offerHasCrypto: true, keyed: false)
    }

    /// Mandatory SRTP fails closed in either direction: the answerer refuses with 488, never a
    /// call in clear. This is the peer a B2BUA must not talk into RTP.
    @Test(arguments: [(.srtpMandatory, nil), (nil, .srtpMandatory)] as [(BaresipPhone.MediaEncryption?, BaresipPhone.MediaEncryption?)])
    func mandatorySRTPAndPlainRTPNeverConnect(encryptionOfA: BaresipPhone.MediaEncryption?, encryptionOfB: BaresipPhone.MediaEncryption?) async throws {
        guard case let (a, b)? = try Self.phones(encryptionOfA: encryptionOfA, encryptionOfB: encryptionOfB) else { return }
        defer {
            a.stop()
            b.stop()
        }
        try await a.start()
        try await b.start()
        try await a.dial(b.directURI(user: "b"))
        #expect(try await a.waitClosed() == "488 Not Acceptable Here")
        #expect(a.output.contains("SIP/2.0 488 Not Acceptable Here"), "\(a.diagnostics)")
        for phone in [a, b] {
            #expect(!phone.events.contains { $0.type == BaresipEvent.Kind.established.rawValue }, "\(phone.diagnostics)")
        }
    }

    @Test func aRejectedCallClosesWithTheStatusOnTheCallersSide() async throws {
        guard case let (a, b)? = try Self.phones() else { return }
        defer {
            a.stop()
            b.stop()
        }
        try await Self.ring(a, b)
        try await b.reject()
        #expect(try await a.waitClosed() == "486 Rejected")
        #expect(try await b.waitClosed() == "Connection reset by user")
        #expect(!a.events.contains { $0.type == BaresipEvent.Kind.established.rawValue })
        #expect(a.output.contains("SIP/2.0 486 Rejected"), "\(a.diagnostics)")
    }

    @Test func aCallCancelledWhileRingingClosesOnBothSidesUnanswered() async throws {
        guard case let (a, b)? = try Self.phones() else { return }
        defer {
            a.stop()
            b.stop()
        }
        try await Self.ring(a, b)
        try await a.hangup()
        #expect(try await a.waitClosed() == "Connection reset by user")
        #expect(try await b.waitClosed() == "Connection reset by peer")
        #expect(b.output.contains(try Regex("CANCEL sip:b@127\\.0\\.0\\.1:\\d+ SIP/2\\.0")), "\(b.diagnostics)")
        for phone in [a, b] {
            #expect(!phone.events.contains { $0.type == BaresipEvent.Kind.established.rawValue }, "\(phone.diagnostics)")
        }
    }

    /// Hold and resume are re-INVITEs with a=sendonly and then a=sendrecv; the call survives both.
    @Test func holdAndResumeAreReInvitesTheOtherPhoneReceives() async throws {
        guard case let (a, b)? = try Self.phones() else { return }
        defer {
            a.stop()
            b.stop()
        }
        try await Self.establish(a, b)
        // The INVITE's own offer.
        #expect(try await b.waitEvent(.remoteSDP).parameter == "offer")
        try await a.hold()
        #expect(try await b.waitEvent(.remoteSDP).parameter == "offer")
        #expect(b.output.contains("a=sendonly"), "\(b.diagnostics)")
        try await a.resume()
        #expect(try await b.waitEvent(.remoteSDP).parameter == "offer")
        try await b.hangup()
        #expect(try await b.waitClosed() == "Connection reset by user")
        #expect(try await a.waitClosed() == "Connection reset by peer")
    }
}

/// The harness's registration and TLS options, against the edge's mutual-TLS registrar.
@Suite(.serialized, .timeLimit(.minutes(1))) struct BaresipCallRegistrationTests {
    static var phonesAvailable: Bool {
        guard let reason = BaresipPhone.missingRequirement else { return true }
        TestRequirement.unmet(reason)
        return false
    }

    static func phone(registrarPort: Int, trusting caFile: String = IntegrationPKI.path("ca.pem")) throws -> BaresipPhone {
        // The test PKI's phone certificate (CN SEP001122334455) owns line 2001 in the inventory.
        try BaresipPhone(
            name: "2001",
            account: .init(
                aor: "sip:2001@edge.test", transport: .tls, outboundProxy: "sip:127.0.0.1:\(registrarPort);transport=tls",
                registrationInterval: 60),
            toneFrequency: 440,
            tls: .init(certificate: IntegrationPKI.path("phone.pem"), key: IntegrationPKI.path("phone.key"), caFile: caFile))
    }

    /// Starts the edge, registers `phone` there and hands both to `check`; the edge is stopped
    /// whatever happens, so errors are recorded rather than thrown past it.
    static func registeringAtTheEdge(trusting caFile: String = IntegrationPKI.path("ca.pem"), _ check: (BaresipPhone, EdgeUnderTest) throws -> Void) async throws {
        let edge = try await EdgeUnderTest.start(tls: IntegrationPKI.edgeTLS(), configure: RegistrarInteropTests.inventory)
        do {
            let phone = try Self.phone(registrarPort: edge.tlsPort, trusting: caFile)
            defer { phone.stop() }
            try await phone.start()
            try await phone.waitRegistered()
            try check(phone, edge)
        } catch {
            Issue.record(error)
        }
        await edge.stop()
    }

    @Test func aPhoneWithItsCertificateRegistersOverMutualTLS() async throws {
        guard Self.phonesAvailable else { return }
        try await Self.registeringAtTheEdge { phone, edge in
            let registrar = try #require(edge.runtime.registrar)
            #expect(!registrar.bindings(for: "2001").isEmpty, "\(phone.diagnostics)")
            #expect(phone.output.contains("REGISTER sip:edge.test;transport=tls SIP/2.0"))
        }
    }

    /// baresip 1.0.0 has no `sip_verify_server`, and its TLS client accepts any server
    /// certificate: trusting only an unrelated CA, it still registers. A test of the edge's own
    /// certificate cannot count on baresip refusing a bad one. When Debian's baresip gains the
    /// option this fails, and the harness should then set it.
    @Test func baresipOfDebian12RegistersThroughAServerCertificateItsCADidNotIssue() async throws {
        guard Self.phonesAvailable else { return }
        try await Self.registeringAtTheEdge(trusting: IntegrationPKI.path("other-ca.pem")) { phone, edge in
            let registrar = try #require(edge.runtime.registrar)
            #expect(registrar.bindings(for: "2001").count == 1, "\(phone.diagnostics)")
        }
    }

    @Test func aRegistrationNobodyAnswersFailsWithBaresipsReason() async throws {
        guard Self.phonesAvailable else { return }
        let phone = try Self.phone(registrarPort: try FreePort.pick())
        defer { phone.stop() }
        try await phone.start()
        let failure = await #expect(throws: BaresipPhone.Failure.self) { try await phone.waitRegistered() }
        #expect(failure?.description.contains("registration failed: Connection refused") == true, "\(failure.map(String.init(describing:)) ?? "")")
    }
}

/// The control protocol's framing and messages, from what baresip 1.0.0 sends.
@Suite struct BaresipCallControlTests {
    @Test func netstringsAreSplitWhereverTheStreamBreaksThem() throws {
        let stream = Netstring.encode(Array("{\"a\":1}".utf8)) + Netstring.encode([]) + Netstring.encode(Array("xyz".utf8))
        for cut in 0...stream.count {
            var framing = Netstring()
            let payloads = try framing.feed(stream[..<cut]) + framing.feed(stream[cut...])
            #expect(payloads == [Array("{\"a\":1}".utf8), [], Array("xyz".utf8)], "cut at \(cut)")
        }
    }

    @Test func aBrokenNetstringIsAnErrorNotAHang() {
        var missingComma = Netstring()
        #expect(throws: Netstring.FramingError.self) { try missingComma.feed(Array("3:abc;".utf8)) }
        var noLength = Netstring()
        #expect(throws: Netstring.FramingError.self) { try noLength.feed(Array("{\"event\":true}".utf8)) }
    }

    @Test func anEventCarriesItsTypeCallAndReason() throws {
        let json = #"""
            {"event":true,"type":"CALL_CLOSED","class":"call","accountaor":"sip:a@127.0.0.1","direction":"outgoing","peeruri":"sip:b@127.0.0.1:5081","id":"8db386bfa7d0f7e1","param":"486 Rejected"}
            """#
        let message = try BaresipControlMessage(json: Data(json.utf8))
        #expect(
            message
                == .event(
                    BaresipEvent(
                        type: "CALL_CLOSED", eventClass: "call", callID: "8db386bfa7d0f7e1", direction: "outgoing",
                        peerURI: "sip:b@127.0.0.1:5081", accountAOR: "sip:a@127.0.0.1", parameter: "486 Rejected")))
    }

    /// CALL_RTCP carries an object the harness does not model; the event still decodes.
    @Test func anEventWithNestedStatisticsDecodes() throws {
        let json = #"{"event":true,"type":"CALL_RTCP","class":"call","id":"x","param":"audio","rtcp_stats":{"tx":{"sent":0},"rtt":0}}"#
        guard case .event(let event) = try BaresipControlMessage(json: Data(json.utf8)) else {
            Issue.record("not an event")
            return
        }
        #expect(event.type == "CALL_RTCP")
    }

    @Test func aResponseIsMatchedByItsTokenAndCarriesTheRefusal() throws {
        let json = #"{"response":true,"ok":false,"data":"Invalid argument","token":"dial-1"}"#
        #expect(try BaresipControlMessage(json: Data(json.utf8)) == .response(token: "dial-1", ok: false, data: "Invalid argument"))
        #expect(throws: BaresipControlMessage.MalformedMessage.self) { try BaresipControlMessage(json: Data(#"{"ok":true}"#.utf8)) }
    }

    @Test func aCommandIsOneNetstringOfJSON() throws {
        let bytes = try BaresipControlMessage.command("dial", parameters: "sip:b@127.0.0.1:5081", token: "dial-1")
        #expect(String(decoding: bytes, as: UTF8.self) == #"67:{"command":"dial","params":"sip:b@127.0.0.1:5081","token":"dial-1"},"#)
    }

    @Test func theAccountLineCarriesEveryOption() {
        let account = BaresipPhone.Account(
            aor: "sip:2001@edge.test", transport: .tls, outboundProxy: "sip:127.0.0.1:5061;transport=tls", registrationInterval: 60,
            mediaEncryption: .srtpMandatory, authentication: (user: "2001", password: "secret"))
        #expect(
            account.line
                == #"<sip:2001@edge.test;transport=tls>;auth_user=2001;auth_pass=secret;outbound="sip:127.0.0.1:5061;transport=tls";regint=60;mediaenc=srtp-mand;answermode=manual"#
        )
        #expect(BaresipPhone.Account(aor: "sip:a@127.0.0.1").line == "<sip:a@127.0.0.1>;regint=0;answermode=manual")
    }
}
