import Foundation
import Testing

@testable import SIP

/// RFC 4475 torture messages, byte-exact from the RFC's own archive (see RFC4475/MANIFEST.md).
@Suite struct RFC4475Tests {
    static func vector(_ name: String) throws -> [UInt8] {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("RFC4475")
        return Array(try Data(contentsOf: directory.appendingPathComponent("\(name).dat")))
    }

    static let wellFormed = [
        "wsinv", "intmeth", "esc01", "escnull", "esc02", "lwsdisp", "longreq", "dblreq", "semiuri", "transports",
        "mpart01", "unreason", "noreason", "inv2543", "baddate",
        // Well-formed SIP that the application above the parser answers (§3.2–3.3).
        "badbranch", "unkscm", "novelsc", "unksm2", "bext01", "invut", "regaut01", "bcast", "zeromf", "cparam01",
        "cparam02", "regescrt", "sdp01",
    ]

    /// Messages the parser must refuse, with the element its error must name.
    static let malformed: [(String, String)] = [
        ("badinv01", "Via"), ("clerr", "Content-Length"), ("ncl", "Content-Length"), ("scalar02", "CSeq"),
        ("scalarlg", "CSeq"), ("quotbal", "To"), ("ltgtruri", "Request-URI"), ("lwsruri", "Request-Line"),
        ("lwsstart", "Request-Line"), ("trws", "Request-Line"), ("escruri", "Request-URI"), ("regbadct", "Contact"),
        ("badaspec", "To"), ("badvers", "SIP-Version"), ("mismatch01", "CSeq"), ("mismatch02", "CSeq"),
        ("bigcode", "Status-Line"), ("insuf", "From"), ("multi01", "Via"), ("mcl01", "Content-Length"),
    ]

    @Test(arguments: wellFormed)
    func wellFormedMessagesParseAndRoundTrip(name: String) throws {
        let message = try SIPMessage(parsing: try Self.vector(name))
        let canonical = message.serialized
        let reparsed = try SIPMessage(parsing: canonical)
        // Canonical form always carries Content-Length (inv2543 has none); nothing else changes.
        let withoutLength = { (message: SIPMessage) in message.headers.filter { $0.name != .contentLength } }
        #expect(withoutLength(reparsed) == withoutLength(message))
        #expect(reparsed.body == message.body)
        #expect(reparsed.serialized == canonical)
    }

    @Test(arguments: malformed)
    func malformedMessagesAreRefusedNamingTheElement(name: String, element: String) throws {
        let bytes = try Self.vector(name)
        let error = #expect(throws: SIPParseError.self) { try SIPMessage(parsing: bytes) }
        if name == "multi01" {
            // Several single-valued headers are duplicated; any of them may be named first.
            #expect(["Via", "From", "To", "Call-ID", "CSeq", "Max-Forwards"].contains(error?.element ?? ""))
        } else if name == "insuf" {
            #expect(["From", "To", "Call-ID"].contains(error?.element ?? ""))
        } else {
            #expect(error?.element == element, "\(name): \(String(describing: error))")
        }
    }

    @Test func baddnIsRefusedForItsDisplayNameOnceTerminated() throws {
        let bytes = try Self.vector("baddn")
        #expect(throws: SIPParseError.self) { try SIPMessage(parsing: bytes) }
        let error = #expect(throws: SIPParseError.self) { try SIPMessage(parsing: bytes + [0x0D, 0x0A]) }
        #expect(error?.element == "From")
    }

    @Test func wsinvFacts() throws {
        let request = try #require(try SIPMessage(parsing: try Self.vector("wsinv")).request)
        let to = try request.headers.to()
        #expect(to.displayName == nil)
        #expect(to.tag == "1918181833n")
        let from = try request.headers.from()
        #expect(from.displayName == "J Rosenberg \\\"")
        #expect(from.tag == "98asjd8")
        let vias = try request.headers.vias()
        #expect(vias.map(\.transport) == ["UDP", "TCP", "UDP"])
        #expect(vias.map(\.branch) == ["390skdjuw", "z9hG4bK9ikj8", "z9hG4bK30239"])
        #expect(try request.headers.maxForwards() == 68)
        #expect(try request.headers.cseq() == CSeq(9, .invite))
        #expect(request.headers[.subject] == "")
        #expect(request.headers[SIPHeaderName("UnknownHeaderWithUnusualValue")] == ";;,,;;,;")
        guard case .address(let contact) = try request.headers.contacts().first else { throw TestFailure("contact") }
        #expect(contact.displayName == "Quoted string \"\"")
        #expect(contact.parameters.value("q") == "0.33")
        #expect(request.body.count == 150)
    }

    @Test func intmethFacts() throws {
        let request = try #require(try SIPMessage(parsing: try Self.vector("intmeth")).request)
        #expect(request.method.rawValue == "!interesting-Method0123456789_*+`.%indeed'~")
        #expect(try request.headers.cseq().sequence == 139122385)
        let uri = try #require(request.uri.sipURI)
        #expect(uri.user == "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*")
        #expect(uri.password == "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)")
        #expect(uri.host == "example.com")
        let toName = try #require(try request.headers.to().displayName)
        #expect(toName.unicodeScalars.contains("\u{07}") && toName.unicodeScalars.contains("\u{0}") && toName.unicodeScalars.contains("\u{7F}"))
        #expect(try request.headers.from().parameters.value("fromParam''~+*_!.-%") == "\"работающий\"")
        #expect(try request.headers.from().tag == "_token~1'+`*%!-.")
        #expect(try request.headers.maxForwards() == 255)
        #expect(request.headers[SIPHeaderName("extensionHeader-!.%*+_`'~")] == "\u{FEFF}大停電")
    }

    @Test func escapingFacts() throws {
        let esc01 = try #require(try SIPMessage(parsing: try Self.vector("esc01")).request)
        #expect(esc01.uri.sipURI?.user == "sips:user@example.com")
        #expect(try esc01.headers.to().uri.sipURI?.user == "user")
        #expect(try esc01.headers.from().uri.sipURI?.user == "I have spaces")
        guard case .address(let contact) = try esc01.headers.contacts().first else { throw TestFailure("contact") }
        #expect(contact.uri.sipURI?.user == "caller")
        #expect(contact.uri.sipURI?.parameters == [URIParameter("lr"), URIParameter("name", "value%41")])

        let escnull = try #require(try SIPMessage(parsing: try Self.vector("escnull")).request)
        #expect(try escnull.headers.to().uri.sipURI?.user == "null-\u{0}-null")
        #expect(escnull.headers.lines(.contact).count == 2)
        let users = try escnull.headers.contacts().compactMap { value -> String? in
            if case .address(let address) = value { return address.uri.sipURI?.user }
            return nil
        }
        #expect(users == ["\u{0}", "\u{0}\u{0}"])

        let esc02 = try #require(try SIPMessage(parsing: try Self.vector("esc02")).request)
        #expect(esc02.method.rawValue == "RE%47IST%45R")
        #expect(try esc02.headers.to().displayName == "%Z%45")
        #expect(try esc02.headers.contacts().count == 2)
        #expect(esc02.headers[SIPHeaderName("C%6Fntact")] == "<sip:alias2@host2.example.com>")
    }

    @Test func longAndDoubledMessages() throws {
        let longreq = try #require(try SIPMessage(parsing: try Self.vector("longreq")).request)
        #expect(try longreq.headers.vias().count == 34)
        #expect(try longreq.headers.callID().count == 141)
        #expect(try longreq.headers.from().tag?.count == 155)
        #expect(try longreq.headers.vias().last?.branch?.count == 215)

        let dblreq = try #require(try SIPMessage(parsing: try Self.vector("dblreq")).request)
        #expect(dblreq.method == .register)
        #expect(dblreq.body.isEmpty)

        let semiuri = try #require(try SIPMessage(parsing: try Self.vector("semiuri")).request)
        #expect(semiuri.uri.sipURI?.user == "user;par=u@example.net")
        #expect(semiuri.uri.sipURI?.parameters.isEmpty == true)
        #expect(semiuri.headers.values(.accept).count == 6)

        let transports = try #require(try SIPMessage(parsing: try Self.vector("transports")).request)
        #expect(try transports.headers.vias().map(\.transport) == ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"])
    }

    @Test func bodiesAndReasonPhrases() throws {
        let mpart = try SIPMessage(parsing: try Self.vector("mpart01"))
        #expect(mpart.body.count == 553)
        #expect(mpart.body.contains(0x00))
        let unreason = try #require(try SIPMessage(parsing: try Self.vector("unreason")).response)
        #expect(unreason.statusCode == 200)
        #expect(unreason.reasonPhrase == "= 2**3 * 5**2 но сто девяносто девять - простое")
        let noreason = try #require(try SIPMessage(parsing: try Self.vector("noreason")).response)
        #expect(noreason.statusCode == 100 && noreason.reasonPhrase.isEmpty)
        let inv2543 = try #require(try SIPMessage(parsing: try Self.vector("inv2543")).request)
        #expect(inv2543.body.count == 105)
        #expect(try inv2543.headers.topVia().branch == nil)
        #expect(try inv2543.headers.from().tag == nil)
    }

    @Test func applicationLevelFacts() throws {
        let unkscm = try #require(try SIPMessage(parsing: try Self.vector("unkscm")).request)
        #expect(unkscm.uri == .absolute(scheme: "nobodyknowsthisscheme", text: "totallyopaquecontent"))
        let novelsc = try #require(try SIPMessage(parsing: try Self.vector("novelsc")).request)
        #expect(novelsc.uri.scheme == "soap.beep")
        let bext = try #require(try SIPMessage(parsing: try Self.vector("bext01")).request)
        #expect(bext.headers.tokens(.require) == ["nothingSupportsThis", "nothingSupportsThisEither"])
        #expect(bext.headers.tokens(.proxyRequire) == ["noProxiesSupportThis", "norDoAnyProxiesSupportThis"])
        let cparam01 = try #require(try SIPMessage(parsing: try Self.vector("cparam01")).request)
        guard case .address(let contact1) = try cparam01.headers.contacts().first else { throw TestFailure("contact") }
        #expect(contact1.uri.sipURI?.parameters.isEmpty == true)
        #expect(contact1.parameters == [GenericParameter("unknownparam")])
        let cparam02 = try #require(try SIPMessage(parsing: try Self.vector("cparam02")).request)
        guard case .address(let contact2) = try cparam02.headers.contacts().first else { throw TestFailure("contact") }
        #expect(contact2.uri.sipURI?.parameters == [URIParameter("unknownparam")])
        #expect(contact2.parameters.isEmpty)
        let regescrt = try #require(try SIPMessage(parsing: try Self.vector("regescrt")).request)
        guard case .address(let contact3) = try regescrt.headers.contacts().first else { throw TestFailure("contact") }
        #expect(contact3.uri.sipURI?.headers == [URIParameter("Route", "<sip:sip.example.com>")])
        let zeromf = try #require(try SIPMessage(parsing: try Self.vector("zeromf")).request)
        #expect(try zeromf.headers.maxForwards() == 0)
        let badbranch = try #require(try SIPMessage(parsing: try Self.vector("badbranch")).request)
        #expect(try badbranch.headers.topVia().branch == "z9hG4bK")
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
