import Edge
import Foundation
import Runtime
import Testing

/// Hostile call signalling over the real TLS listener, from the encrypted phone 2001 (its
/// certificate carried by a socat relay): every INVITE, CANCEL and BYE no call can take gets its
/// status and why, and afterwards no call is up and no relay port is held.
@Suite(.serialized, .timeLimit(.minutes(1))) struct HostileCallInputTests {
    static func invite(
        maxForwards: Int = 70, extraHeaders: [String] = [], body: String = offer()
    ) -> String {
        let callID = UUID().uuidString
        var lines = [
            "INVITE sip:2002@edge.test SIP/2.0", "Via: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bK\(UUID().uuidString.prefix(12))",
            "Max-Forwards: \(maxForwards)", "From: <sip:2001@edge.test>;tag=hostile1", "To: <sip:2002@edge.test>", "Call-ID: \(callID)",
            "CSeq: 1 INVITE", "Contact: <sip:2001@127.0.0.1:5999;transport=tls>",
        ]
        lines += extraHeaders
        if !body.isEmpty { lines.append("Content-Type: application/sdp") }
        lines.append("Content-Length: \(body.utf8.count)")
        return lines.joined(separator: "\r\n") + "\r\n\r\n" + body
    }

    static func offer(mediaLines: Int = 0, crypto: String = "inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz", profile: String = "RTP/SAVP") -> String {
        var text = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 20000 \(profile) 0\r\n"
        if profile == "RTP/SAVP" { text += "a=crypto:1 AES_CM_128_HMAC_SHA1_80 \(crypto)\r\n" }
        for index in 0..<mediaLines { text += "m=video \(30_000 + 2 * index) RTP/AVP 96\r\n" }
        return text
    }

    static func inDialog(_ method: String) -> String {
        [
            "\(method) sip:outpost@127.0.0.1 SIP/2.0", "Via: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bK\(UUID().uuidString.prefix(12))",
            "Max-Forwards: 70", "From: <sip:2001@edge.test>;tag=hostile2", "To: <sip:2002@edge.test>;tag=nobody", "Call-ID: \(UUID().uuidString)",
            "CSeq: 1 \(method)", "Content-Length: 0",
        ].joined(separator: "\r\n") + "\r\n\r\n"
    }

    /// The first final response on the connection, read as it comes.
    static func finalResponse(on socket: LoopbackSocket) -> String? {
        var received = ""
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if let chunk = socket.receive() { received += chunk }
            for message in received.components(separatedBy: "SIP/2.0 ").dropFirst() {
                if let status = Int(message.prefix(3)), status >= 200 { return "SIP/2.0 " + message }
            }
        }
        return nil
    }

    @Test func everyHostileCallRequestIsAnsweredAndNothingIsLeftHeld() async throws {
        let edge = try await EdgeUnderTest.start(tls: IntegrationPKI.edgeTLS(), configure: BaresipCallTests.inventory)
        let relayPort = edge.port + 2
        let relay = try BackgroundTool.tlsRelay(listenPort: relayPort, tlsPort: edge.tlsPort)
        defer { relay.stop() }
        let cases: [(String, String, Int, String)] = [
            ("hundreds of m-lines", Self.invite(body: Self.offer(mediaLines: 400)), 400, "SDP"),
            ("a crypto line that is not base64", Self.invite(body: Self.offer(crypto: "inline:!!")), 488, "Warning:"),
            ("clear RTP from an encrypted device", Self.invite(body: Self.offer(profile: "RTP/AVP")), 488, "Warning: 30"),
            ("an SDP that does not parse", Self.invite(body: "v=0\r\nm=audio x\r\n"), 400, "does not parse"),
            ("Max-Forwards 0", Self.invite(maxForwards: 0), 483, "Max-Forwards"),
            ("a Require the edge lacks", Self.invite(extraHeaders: ["Require: precondition"]), 420, "Unsupported: precondition"),
            ("too short a session interval", Self.invite(extraHeaders: ["Supported: timer", "Session-Expires: 30"]), 422, "Min-SE: 90"),
            ("a CANCEL for no call", Self.inDialog("CANCEL"), 481, "Call/Transaction Does Not Exist"),
            ("a BYE with tags of no dialog", Self.inDialog("BYE"), 481, "Call/Transaction Does Not Exist"),
            ("a PRACK for no call", Self.inDialog("PRACK"), 481, "Call/Transaction Does Not Exist"),
        ]
        for (what, message, status, shows) in cases {
            let socket = try LoopbackSocket(udp: false, port: relayPort, receiveTimeout: 1)
            socket.send(message)
            let answer = try #require(Self.finalResponse(on: socket), "no final response to \(what)")
            #expect(answer.hasPrefix("SIP/2.0 \(status) "), "\(what): \(answer.prefix(400))")
            #expect(answer.contains(shows), "\(what): \(answer.prefix(800))")
        }
        let control = ControlSocketTests.BlockingOffThePool(client: ControlClient(stateDirectory: edge.stateDirectory))
        #expect(try await control.show("calls").hasPrefix("0 calls up"))
        let media = try await control.show("media")
        #expect(media.contains(": 0 of "), "no relay port is held: \(media.prefix(300))")
        await edge.stop()
    }
}
