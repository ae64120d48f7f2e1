import Foundation
import Testing

@testable import SIP

/// RFC 5118 IPv6 torture messages (§4), one file each, in wire form (see RFC5118/MANIFEST.md).
@Suite struct RFC5118Tests {
    static func vector(_ name: String) throws -> [UInt8] {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("RFC5118")
        return Array(try Data(contentsOf: directory.appendingPathComponent("\(name).dat")))
    }

    static func request(_ name: String) throws -> SIPRequest {
        try #require(try SIPMessage(parsing: try vector(name)).request)
    }

    /// Every message the RFC calls valid (all but §4.2), with the section that says so.
    static let valid: [(String, String)] = [
        ("ipv6-good", "4.1"), ("port-ambiguous", "4.3"), ("port-unambiguous", "4.4"),
        ("via-received-param-with-delim", "4.5"), ("via-received-param-no-delim", "4.5"), ("ipv6-in-sdp", "4.6"),
        ("mult-ip-in-header", "4.7"), ("mult-ip-in-sdp", "4.8"), ("ipv4-mapped-ipv6", "4.9"),
        // §4.10: RFC 3261's ABNF admits the three-colon form; "an implementation must tolerate both".
        ("ipv6-bug-abnf-3-colons", "4.10"), ("ipv6-correct-abnf-2-colons", "4.10"),
    ]

    @Test func theSetIsComplete() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("RFC5118")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".dat") }
        let named = Set(Self.valid.map(\.0) + ["ipv6-bad"]).map { "\($0).dat" }
        #expect(Set(files) == Set(named))
        #expect(files.count == 12)
    }

    @Test(arguments: valid)
    func validMessagesParseAndRoundTrip(name: String, section: String) throws {
        let message = try SIPMessage(parsing: try Self.vector(name))
        let reparsed = try SIPMessage(parsing: message.serialized)
        #expect(reparsed.headers == message.headers, "§\(section) \(name)")
        #expect(reparsed.body == message.body)
        #expect(reparsed.serialized == message.serialized)
    }

    /// §4.2: an IPv6 address in a SIP URI must be bracketed; the Request-URI is refused by name.
    @Test func ipv6BadIsRefusedForItsRequestURI() throws {
        let bytes = try Self.vector("ipv6-bad")
        let error = #expect(throws: SIPParseError.self) { try SIPMessage(parsing: bytes) }
        #expect(error?.element == "Request-URI")
    }

    @Test func ipv6GoodFacts() throws {
        let request = try Self.request("ipv6-good")
        #expect(request.method == .register)
        #expect(request.uri.sipURI?.host == "[2001:db8::10]")
        #expect(request.uri.sipURI?.port == nil)
        let via = try #require(try request.headers.vias().first)
        #expect(via.host == "[2001:db8::9:1]")
        #expect(via.port == nil)
        guard case .address(let contact) = try request.headers.contacts().first else { throw TestFailure("contact") }
        #expect(contact.uri.sipURI?.host == "[2001:db8::1]")
    }

    /// §4.3: everything inside the brackets is the address; there is no port.
    @Test func portAmbiguousHasNoPort() throws {
        let uri = try #require(try Self.request("port-ambiguous").uri.sipURI)
        #expect(uri.host == "[2001:db8::10:5070]")
        #expect(uri.port == nil)
    }

    /// §4.4: the port follows the closing bracket.
    @Test func portUnambiguousHasPort5070() throws {
        let uri = try #require(try Self.request("port-unambiguous").uri.sipURI)
        #expect(uri.host == "[2001:db8::10]")
        #expect(uri.port == 5070)
    }

    /// §4.5: `received` with and without brackets; the parameters after it are still read.
    @Test func viaReceivedWithAndWithoutDelimiters() throws {
        let bracketed = try #require(try Self.request("via-received-param-with-delim").headers.vias().first)
        #expect(bracketed.received == "[2001:db8::9:255]")
        #expect(bracketed.branch == "z9hG4bKas3-111")
        let bare = try #require(try Self.request("via-received-param-no-delim").headers.vias().first)
        #expect(bare.host == "[2001:db8::9:1]")
        #expect(bare.received == "2001:db8::9:255")
        #expect(bare.branch == "z9hG4bKas3")
        #expect(bare.parameters.map(\.name) == ["received", "branch"])
    }

    /// Bare IPv6 is the `received` grammar only (RFC 3261 via-received); other parameters keep
    /// the generic grammar, where a colon ends the value.
    @Test func bareIPv6IsOnlyAcceptedInReceived() throws {
        #expect(try Via(parsing: "SIP/2.0/UDP [2001:db8::1];received=::1").received == "::1")
        #expect(try Via(parsing: "SIP/2.0/UDP h;received=::ffff:192.0.2.1;rport=5060").rport == 5060)
        #expect(try Via(parsing: "SIP/2.0/UDP h;received=192.0.2.1").received == "192.0.2.1")
        #expect(throws: SIPParseError.self) { try Via(parsing: "SIP/2.0/UDP h;maddr=2001:db8::1") }
        #expect(throws: SIPParseError.self) { try Via(parsing: "SIP/2.0/UDP h;received=2001:db8::1]") }
        #expect(throws: SIPParseError.self) { try Via(parsing: "SIP/2.0/UDP h;received=") }
    }

    /// §4.6 and §4.8: the SDP body arrives whole, its IPv6 connection lines intact.
    @Test func sdpBodiesWithIPv6Addresses() throws {
        let inSDP = try Self.request("ipv6-in-sdp")
        #expect(inSDP.headers[.contentType] == "application/sdp")
        let text = String(decoding: inSDP.body, as: UTF8.self)
        #expect(text.contains("c=IN IP6 2001:db8::20\r\n"))
        #expect(text.hasSuffix("a=rtpmap:107 H263-1998/90000\r\n"))
        let mixed = String(decoding: try Self.request("mult-ip-in-sdp").body, as: UTF8.self)
        #expect(mixed.contains("c=IN IP4 192.0.2.1\r\n") && mixed.contains("c=IN IP6 2001:db8::1\r\n"))
    }

    /// §4.7: IPv6 and IPv4 sent-by values and an IPv4 `received` in one Via list.
    @Test func multipleAddressFamiliesInVias() throws {
        let vias = try Self.request("mult-ip-in-header").headers.vias()
        #expect(vias.map(\.host) == ["[2001:db8::9:1]", "192.0.2.1", "[2001:db8::9:255]"])
        #expect(vias.map(\.port) == [6050, nil, nil])
        #expect(vias.map(\.transport) == ["UDP", "UDP", "TCP"])
        #expect(vias[2].received == "192.0.2.200")
    }

    /// §4.9: IPv4-mapped IPv6 addresses in Via and Contact.
    @Test func ipv4MappedAddresses() throws {
        let request = try Self.request("ipv4-mapped-ipv6")
        let vias = try request.headers.vias()
        #expect(vias.map(\.host) == ["[::ffff:192.0.2.10]", "[::ffff:192.0.2.2]"])
        #expect(vias.first?.port == 19823)
        guard case .address(let contact) = try request.headers.contacts().first else { throw TestFailure("contact") }
        #expect(contact.uri.sipURI?.host == "[::ffff:192.0.2.2]")
        #expect(String(decoding: request.body, as: UTF8.self).contains("c=IN IP6 ::ffff:192.0.2.2\r\n"))
    }

    /// §4.10: both spellings are tolerated and kept as written.
    @Test func threeAndTwoColonForms() throws {
        let three = try Self.request("ipv6-bug-abnf-3-colons")
        #expect(three.uri.sipURI?.host == "[2001:db8:::192.0.2.1]")
        #expect(try three.headers.to().uri.sipURI?.host == "[2001:db8:::192.0.2.1]")
        let two = try Self.request("ipv6-correct-abnf-2-colons")
        #expect(two.uri.sipURI?.host == "[2001:db8::192.0.2.1]")
    }
}
