/// Checks, as each header field is read, the headers every element relies on: Via, From, To,
/// Call-ID, CSeq, Max-Forwards, Expires, Contact and Content-Length. Checking the received bytes
/// in the same pass costs far less than re-reading the values afterwards.
struct EssentialHeaders {
    private(set) var contentLength: Int?
    private(set) var cseq: CSeq?
    private var counts = [Int](repeating: 0, count: 8)

    private enum Slot: Int {
        case via, from, to, callID, cseq, maxForwards, expires, contentLength
    }

    mutating func check(_ name: SIPHeaderName, _ bytes: UnsafeBufferPointer<UInt8>) throws(SIPParseError) {
        switch name {
        case .via:
            count(.via, by: try Via.parseList(bytes).count)
        case .from, .to:
            count(name == .from ? .from : .to)
            _ = try NameAddress.parseSingle(bytes, element: name.canonical)
        case .callID:
            count(.callID)
            try Self.checkCallID(bytes)
        case .cseq:
            count(.cseq)
            cseq = try CSeq.parse(bytes)
        case .maxForwards:
            count(.maxForwards)
            _ = try Self.number(bytes, limit: 255, name)
        case .expires:
            count(.expires)
            _ = try Self.number(bytes, limit: UInt64(UInt32.max), name)
        case .minExpires:
            _ = try Self.number(bytes, limit: UInt64(UInt32.max), name)
        case .contentLength:
            count(.contentLength)
            contentLength = Int(try Self.number(bytes, limit: 1 << 30, name))
        case .contact:
            if bytes.count == 1, bytes[0] == 0x2A { return }
            _ = try NameAddress.parseList(bytes, element: "Contact")
        default:
            return
        }
    }

    /// After the last field: every mandatory header once, and the CSeq method matching the request.
    func finish(requestMethod: SIPMethod?) throws(SIPParseError) {
        guard counts[Slot.via.rawValue] > 0 else { throw SIPParseError(element: "Via", reason: "missing") }
        for (slot, name) in [(Slot.from, "From"), (.to, "To"), (.callID, "Call-ID"), (.cseq, "CSeq")] {
            guard counts[slot.rawValue] > 0 else { throw SIPParseError(element: name, reason: "missing") }
        }
        for (slot, name) in [(Slot.from, "From"), (.to, "To"), (.callID, "Call-ID"), (.cseq, "CSeq"),
                             (.maxForwards, "Max-Forwards"), (.expires, "Expires"), (.contentLength, "Content-Length")]
        where counts[slot.rawValue] > 1 {
            throw SIPParseError(element: name, reason: "more than one value")
        }
        if let requestMethod, let cseq, cseq.method != requestMethod {
            throw SIPParseError(element: "CSeq", reason: "method \(cseq.method) does not match the request method \(requestMethod)")
        }
    }

    private mutating func count(_ slot: Slot, by amount: Int = 1) {
        counts[slot.rawValue] += amount
    }

    /// Call-ID = word [ "@" word ]
    static func checkCallID(_ bytes: UnsafeBufferPointer<UInt8>) throws(SIPParseError) {
        var ats = 0
        for byte in bytes {
            if byte == 0x40 { ats += 1 } else if !Grammar.word[Int(byte)] {
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
