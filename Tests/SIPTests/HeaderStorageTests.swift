import Foundation
import Testing

@testable import SIP

/// The header storage (values as ranges of the received bytes), the integer header names and
/// the grammar walkers' check mode, each held to what the plain representation would give.
@Suite struct HeaderStorageTests {
    @Test func receivedValuesReadAsTextAndEqualTheSameFieldsHeldAsText() throws {
        let message = try SIPMessage(parsing: Fixtures.invite)
        let headers = message.headers
        #expect(headers.entries.allSatisfy {
            if case .received = $0.value { return true }
            return false
        })
        let rebuilt = SIPHeaders(headers.fields)
        #expect(rebuilt == headers)
        #expect(rebuilt.hashValue == headers.hashValue)
        #expect(Array(rebuilt) == Array(headers))
        #expect(headers[.callID] == "00112233-44550002-7a5b1c2d-3e4f5a6b@10.1.1.50")
        #expect(headers.lines(.contentLength) == ["\(Fixtures.sdpBody.count)"])

        var changed = headers
        changed.set(.maxForwards, "69")
        #expect(changed != headers)
        #expect(changed[.maxForwards] == "69")
        changed.set(.maxForwards, "70")
        #expect(changed == headers)
        #expect(changed.hashValue == headers.hashValue)
        #expect(SIPMessage.request(try #require(message.request)).serialized == Fixtures.invite)
    }

    @Test func editedHeadersSerializeAndReparse() throws {
        var request = try #require(try SIPMessage(parsing: Fixtures.register).request)
        request.headers.insert(.via, "SIP/2.0/TLS edge.example.com;branch=z9hG4bKedge")
        request.headers.append(.subject, "Très bien ☺")
        request.headers.removeFirstValue(.supported)
        request.headers.remove(.userAgent)
        var via = try request.headers.topVia()
        via.parameters.append(GenericParameter("received", "192.0.2.7"))
        request.headers.replaceTopVia(with: via)
        let reparsed = try #require(try SIPMessage(parsing: request.serialized).request)
        #expect(reparsed == request)
        #expect(reparsed.headers[.subject] == "Très bien ☺")
        #expect(reparsed.headers.values(.supported) == ["path", "gruu"])
        #expect(try reparsed.headers.vias().map(\.host) == ["edge.example.com", "10.1.1.50"])
        #expect(try reparsed.headers.topVia().received == "192.0.2.7")
        #expect(!reparsed.headers.contains(.userAgent))
    }

    @Test func everyKnownNameIsFoundInAnyCaseAndOnlyThen() {
        for known in SIPHeaderName.Known.allCases {
            let canonical = known.canonical
            for spelling in [canonical, canonical.lowercased(), canonical.uppercased()] {
                #expect(SIPHeaderName(spelling).known == known, "\(spelling)")
                #expect(SIPHeaderName(spelling).canonical == canonical)
            }
            // One byte off, including CR for '-' (CR | 0x20 is '-'), is an unknown name.
            var bytes = Array(canonical.utf8)
            for index in bytes.indices {
                let original = bytes[index]
                for replacement: UInt8 in [original ^ 0x40, original == 0x2D ? 0x0D : original ^ 0x01, 0x5F] where replacement != original {
                    bytes[index] = replacement
                    let name = SIPHeaderName(String(decoding: bytes, as: UTF8.self))
                    if Grammar.lowercase(replacement) != Grammar.lowercase(original) {
                        #expect(name.known == nil || name.known != known, "\(bytes)")
                    }
                }
                bytes[index] = original
            }
        }
        #expect(SIPHeaderName("v") == .via && SIPHeaderName("V") == .via)
        #expect(SIPHeaderName("Call\rID").known == nil)
        #expect(SIPHeaderName("X-Thing") == SIPHeaderName("x-thing"))
        #expect(SIPHeaderName("X-Thing").hashValue == SIPHeaderName("x-THING").hashValue)
        #expect(SIPHeaderName("X-Thing").canonical == "X-Thing")
        #expect(SIPHeaderName("\u{212A}-x") == SIPHeaderName("k-x"), "lowercased() equality, as before")
        #expect(SIPHeaderName("\u{212A}-x").hashValue == SIPHeaderName("k-x").hashValue)
        #expect(SIPHeaderName("Via") != SIPHeaderName("X-Via"))
    }

    /// Checking walks the same grammar as building: it refuses the same values with the same
    /// error and accepts the same values.
    @Test(arguments: [
        "<sip:a@b>;tag=1", "\"A \\\"B\\\"\" <sip:a@b>", "A B <sips:x@[::1]:5>;p=\"q\"", "sip:a@b;tag=x", "<tel:+1;x=y>",
        "<sip:a%40b@c>", "<sip:a%4@c>", "<sip:a@b", "\"open <sip:a@b>", "sip:a@b?x=y", "<sip:a@b>;", "<sip:a@b>;=1",
        "<sip:a@b>;t=", "<x:y>", "<1x:y>", "<sip:a@-b>", "<sip:a@b>, <sip:c@d>", "<sip:a@b>;t=[::1]", "<sip:a@b>;t=[zz]",
        "\"\u{E9}\" <sip:a@b>", "<sip:a@b>;t=\"\u{E9}\"", "<sip:%C3%A9@b>", "<sip:%C3@b>", "\"a\\\u{E9}\" <sip:a@b>",
    ])
    func checkModeAgreesWithBuildMode(value: String) {
        let bytes = Array(value.utf8)
        bytes.withUnsafeBufferPointer { buffer in
            let built = Result { () throws(SIPParseError) -> Int in
                try NameAddress.parseList(buffer, element: "Contact").count
            }
            let checked = Result { () throws(SIPParseError) -> Int in
                let addresses = try NameAddress.parseList(buffer, element: "Contact", mode: .check)
                #expect(addresses.isEmpty)
                return -1
            }
            switch (built, checked) {
            case (.success, .success): break
            case (.failure(let left), .failure(let right)): #expect(left == right)
            default: Issue.record("build \(built) but check \(checked) for \(value)")
            }
        }
    }

    @Test(arguments: [
        "SIP/2.0/UDP h", "SIP/2.0/UDP h;branch=z9hG4bK1, SIP/2.0/TCP [::1]:5;rport", "SIP / 2.0 / UDP h:1",
        "SIP/2.0/UDP h;;", "SIP/2.0/UDP h,", "SIP/3.0/UDP h", "SIP/2.0/ h", "SIP/2.0/UDPh", "SIP/2.0/UDP h:99999",
        "SIP/2.0/UDP h;p=\"\u{E9}\"", "SIP/2.0/UDP h;p=\"open",
    ])
    func viaCheckModeCountsWhatBuildModeBuilds(value: String) {
        let bytes = Array(value.utf8)
        bytes.withUnsafeBufferPointer { buffer in
            let built = Result { () throws(SIPParseError) -> Int in try Via.parseList(buffer).vias.count }
            let checked = Result { () throws(SIPParseError) -> Int in try Via.parseList(buffer, mode: .check).count }
            switch (built, checked) {
            case (.success(let left), .success(let right)): #expect(left == right)
            case (.failure(let left), .failure(let right)): #expect(left == right)
            default: Issue.record("build \(built) but check \(checked) for \(value)")
            }
        }
    }

    @Test func utf8IsCheckedWhereverTheLineScanLeavesIt() throws {
        let head = "OPTIONS sip:a SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n"
        // Valid UTF-8 at every offset relative to the eight-byte words of the line scan, and in
        // the line after an ASCII one (which the scan of the ASCII line reads too).
        for padding in 0..<9 {
            let pad = String(repeating: "p", count: padding)
            let good = Array((head + "X-A: \(pad)\r\nX-B: é\(pad)\r\nX-C: \(pad)☺\r\n\r\n").utf8)
            let message = try SIPMessage(parsing: good)
            #expect(message.headers[SIPHeaderName("X-B")] == "é" + pad)
            #expect(message.headers[SIPHeaderName("X-C")] == pad + "☺")
            #expect(message.serialized.starts(with: Array(head.utf8)))
            for bad: [UInt8] in [[0xC3], [0xFF], [0xE2, 0x98], [0xC3, 0x28]] {
                let bytes = Array((head + "X-A: \(pad)").utf8) + bad + Array("\(pad)\r\nX-B: ok\r\n\r\n".utf8)
                let error = #expect(throws: SIPParseError.self) { try SIPMessage(parsing: bytes) }
                #expect(error?.element == "X-A")
            }
        }
    }

    @Test func lineEndsAreFoundAtEveryOffset() throws {
        for padding in 0..<17 {
            let pad = String(repeating: "z", count: padding)
            for lineEnd in ["\r\n", "\n"] {
                let text = ["OPTIONS sip:a SIP/2.0", "Via: SIP/2.0/UDP h;branch=z9hG4bK\(pad)", "From: <sip:a@b>;tag=1",
                            "To: <sip:c@d>", "Call-ID: \(pad)x", "CSeq: 1 OPTIONS", "Subject: a\r\(pad)b", "", ""]
                    .joined(separator: lineEnd)
                let message = try SIPMessage(parsing: Array(text.utf8))
                #expect(try message.headers.topVia().branch == "z9hG4bK" + pad)
                #expect(try message.headers.callID() == pad + "x")
                #expect(message.headers[.subject] == "a\r" + pad + "b")
                // Without the empty line the header section never ends.
                let cut = Array(text.utf8.dropLast(lineEnd.utf8.count))
                #expect(throws: SIPParseError.self) { try SIPMessage(parsing: cut) }
            }
        }
    }

    @Test func foldedValuesAreTextAndSerializeJoined() throws {
        let text = "OPTIONS sip:a SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>\r\n ;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nSubject: é\r\n\t☺  \r\n\r\n"
        let message = try SIPMessage(parsing: Array(text.utf8))
        #expect(message.headers[.from] == "<sip:a@b> ;tag=1")
        #expect(try message.headers.from().tag == "1")
        #expect(message.headers[.subject] == "é ☺")
        let serialized = String(decoding: message.serialized, as: UTF8.self)
        #expect(serialized.contains("\r\nFrom: <sip:a@b> ;tag=1\r\n"))
        #expect(serialized.contains("\r\nSubject: é ☺\r\nContent-Length: 0\r\n\r\n"))
        let reparsed = try SIPMessage(parsing: message.serialized)
        #expect(Array(reparsed.headers.dropLast()) == Array(message.headers))
        #expect(reparsed.serialized == message.serialized)
    }

    @Test func knownMethodsAreRecognisedExactly() {
        for method in [SIPMethod.invite, .ack, .bye, .cancel, .register, .options, .info, .update, .prack, .subscribe,
                       .notify, .refer, .message, .publish] {
            let bytes = Array(method.rawValue.utf8)
            let received = bytes.withUnsafeBufferPointer { SIPMethod.received($0) }
            #expect(received == method)
            let lower = Array(method.rawValue.lowercased().utf8)
            #expect(lower.withUnsafeBufferPointer { SIPMethod.received($0) }.rawValue == method.rawValue.lowercased())
        }
    }
}
