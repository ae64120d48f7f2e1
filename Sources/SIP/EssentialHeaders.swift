/// Checks, as each header field is read, the headers every element relies on: Via, From, To,
/// Call-ID, CSeq, Max-Forwards, Expires, Contact and Content-Length. Checking the received bytes
/// in the same pass costs far less than re-reading the values afterwards.
///
/// The values are checked with the same grammar walkers that build them, in their `.check` mode,
/// so checking allocates nothing.
struct EssentialHeaders {
    private(set) var contentLength: Int?
    private(set) var cseq: CSeq?
    private var vias = 0
    private var froms = 0
    private var tos = 0
    private var callIDs = 0
    private var cseqs = 0
    private var maxForwards = 0
    private var expires = 0
    private(set) var contentLengths = 0

    mutating func check(_ name: SIPHeaderName, _ bytes: UnsafeBufferPointer<UInt8>) throws(SIPParseError) {
        guard case .known(let known) = name.storage else { return }
        switch known {
        case .via:
            vias += try Via.parseList(bytes, mode: .check).count
        case .from:
            froms += 1
            _ = try NameAddress.parseSingle(bytes, element: "From", mode: .check)
        case .to:
            tos += 1
            _ = try NameAddress.parseSingle(bytes, element: "To", mode: .check)
        case .callID:
            callIDs += 1
            try Self.checkCallID(bytes)
        case .cseq:
            cseqs += 1
            cseq = try CSeq.parse(bytes)
        case .maxForwards:
            maxForwards += 1
            _ = try Self.number(bytes, limit: 255, name)
        case .expires:
            expires += 1
            _ = try Self.number(bytes, limit: UInt64(UInt32.max), name)
        case .minExpires:
            _ = try Self.number(bytes, limit: UInt64(UInt32.max), name)
        case .contentLength:
            contentLengths += 1
            contentLength = Int(try Self.number(bytes, limit: 1 << 30, name))
        case .contact:
            if bytes.count == 1, bytes[0] == 0x2A { return }
            _ = try NameAddress.parseList(bytes, element: "Contact", mode: .check)
        default:
            return
        }
    }

    /// After the last field: every mandatory header once, and the CSeq method matching the request.
    func finish(requestMethod: SIPMethod?) throws(SIPParseError) {
        // Every missing one is named (RFC 3261 §8.2: the 400 should say what is wrong), the
        // first as the element, so the answer is complete in one round trip.
        let missing = [("Via", vias), ("From", froms), ("To", tos), ("Call-ID", callIDs), ("CSeq", cseqs)].filter { $0.1 == 0 }.map(\.0)
        if let first = missing.first {
            let others = missing.dropFirst()
            let reason = others.isEmpty ? "missing" : "missing, as \(others.count == 1 ? "is" : "are") \(Self.list(Array(others)))"
            throw SIPParseError(element: first, reason: reason)
        }
        guard froms == 1 else { throw Self.moreThanOne("From") }
        guard tos == 1 else { throw Self.moreThanOne("To") }
        guard callIDs == 1 else { throw Self.moreThanOne("Call-ID") }
        guard cseqs == 1 else { throw Self.moreThanOne("CSeq") }
        guard maxForwards <= 1 else { throw Self.moreThanOne("Max-Forwards") }
        guard expires <= 1 else { throw Self.moreThanOne("Expires") }
        guard contentLengths <= 1 else { throw Self.moreThanOne("Content-Length") }
        if let requestMethod, let cseq, cseq.method != requestMethod {
            throw SIPParseError(element: "CSeq", reason: "method \(cseq.method) does not match the request method \(requestMethod)")
        }
    }

    /// "A", "A and B", "A, B and C".
    private static func list(_ names: [String]) -> String {
        names.count <= 1 ? names.joined() : names.dropLast().joined(separator: ", ") + " and " + names.last!
    }

    private static func moreThanOne(_ element: String) -> SIPParseError {
        SIPParseError(element: element, reason: "more than one value")
    }

    /// Call-ID = word [ "@" word ]
    static func checkCallID(_ bytes: UnsafeBufferPointer<UInt8>) throws(SIPParseError) {
        var ats = 0
        for byte in bytes {
            if byte == 0x40 { ats += 1 } else if !Grammar.isWord(byte) {
                throw SIPParseError(element: "Call-ID", reason: "not a word[@word]")
            }
        }
        guard !bytes.isEmpty, ats <= 1, bytes.first != 0x40, bytes.last != 0x40 else {
            throw SIPParseError(element: "Call-ID", reason: "not a word[@word]")
        }
    }

    static func number(_ bytes: UnsafeBufferPointer<UInt8>, limit: UInt64, _ name: SIPHeaderName) throws(SIPParseError) -> UInt64 {
        guard let value = bytes.decimal(limit: limit) else {
            throw SIPParseError(element: name.canonical, reason: "'\(UnsafeBufferPointer(rebasing: bytes.prefix(32)).text)' is not a number up to \(limit)")
        }
        return value
    }
}
