/// Typed views of the headers a registrar and a B2BUA rely on. Each throws a `SIPParseError`
/// naming the header, so a fault becomes a precise `400`.
extension SIPHeaders {
    public func vias() throws(SIPParseError) -> [Via] {
        var result: [Via] = []
        for value in values(.via) { result.append(try Via(parsing: value)) }
        return result
    }

    public func topVia() throws(SIPParseError) -> Via {
        guard let first = values(.via).first else { throw SIPParseError(element: "Via", reason: "missing") }
        return try Via(parsing: first)
    }

    public func from() throws(SIPParseError) -> NameAddress { try singleAddress(.from) }
    public func to() throws(SIPParseError) -> NameAddress { try singleAddress(.to) }

    public func callID() throws(SIPParseError) -> String {
        let value = try single(.callID)
        let valid = value.utf8.allSatisfy { Grammar.word[Int($0)] || $0 == 0x40 }
        guard valid, !value.isEmpty, value.utf8.filter({ $0 == 0x40 }).count <= 1 else {
            throw SIPParseError(element: "Call-ID", reason: "not a word[@word]")
        }
        return value
    }

    public func cseq() throws(SIPParseError) -> CSeq { try CSeq(parsing: try single(.cseq)) }

    public func maxForwards() throws(SIPParseError) -> Int? {
        try optionalNumber(.maxForwards, limit: 255)
    }

    public func expires() throws(SIPParseError) -> UInt32? {
        try optionalNumber(.expires, limit: UInt64(UInt32.max)).map { UInt32($0) }
    }

    public func minExpires() throws(SIPParseError) -> UInt32? {
        try optionalNumber(.minExpires, limit: UInt64(UInt32.max)).map { UInt32($0) }
    }

    public func contentLength() throws(SIPParseError) -> Int? {
        try optionalNumber(.contentLength, limit: 1 << 30)
    }

    public func contacts() throws(SIPParseError) -> [ContactValue] {
        let values = values(.contact)
        if values.count == 1, values[0] == "*" { return [.wildcard] }
        var result: [ContactValue] = []
        for value in values {
            guard value != "*" else { throw SIPParseError(element: "Contact", reason: "'*' mixed with other contacts") }
            result.append(.address(try NameAddress(parsing: value, element: "Contact")))
        }
        return result
    }

    public func addresses(_ name: SIPHeaderName) throws(SIPParseError) -> [NameAddress] {
        var result: [NameAddress] = []
        for value in values(name) { result.append(try NameAddress(parsing: value, element: name.canonical)) }
        return result
    }

    /// Option tags or methods of Allow, Supported, Require, Proxy-Require, Unsupported.
    public func tokens(_ name: SIPHeaderName) -> [String] { values(name) }

    private func single(_ name: SIPHeaderName) throws(SIPParseError) -> String {
        let lines = lines(name)
        guard let first = lines.first else { throw SIPParseError(element: name.canonical, reason: "missing") }
        guard lines.count == 1 else { throw SIPParseError(element: name.canonical, reason: "more than one value") }
        return first
    }

    private func singleAddress(_ name: SIPHeaderName) throws(SIPParseError) -> NameAddress {
        try NameAddress(parsing: try single(name), element: name.canonical)
    }

    private func optionalNumber(_ name: SIPHeaderName, limit: UInt64) throws(SIPParseError) -> Int? {
        let lines = lines(name)
        guard let first = lines.first else { return nil }
        guard lines.count == 1 else { throw SIPParseError(element: name.canonical, reason: "more than one value") }
        guard let number = Array(first.utf8).withUnsafeBufferPointer({ $0.decimal(limit: limit) }) else {
            throw SIPParseError(element: name.canonical, reason: "'\(first.prefix(32))' is not a number up to \(limit)")
        }
        return Int(number)
    }
}
