/// Typed views of the headers a registrar and a B2BUA rely on. Each throws a `SIPParseError`
/// naming the header, so a fault becomes a precise `400`.
extension SIPHeaders {
    public func vias() throws(SIPParseError) -> [Via] {
        var result: [Via] = []
        for line in lines(.via) {
            result += try line.withBytes { (bytes) throws(SIPParseError) -> [Via] in try Via.parseList(bytes) }
        }
        return result
    }

    public func topVia() throws(SIPParseError) -> Via {
        guard let first = fields.first(where: { $0.name == .via }) else { throw SIPParseError(element: "Via", reason: "missing") }
        return try first.value.withBytes { (bytes) throws(SIPParseError) -> Via in
            var cursor = ByteCursor(bytes)
            return try Via.parse(&cursor)
        }
    }

    public func from() throws(SIPParseError) -> NameAddress { try singleAddress(.from) }
    public func to() throws(SIPParseError) -> NameAddress { try singleAddress(.to) }

    public func callID() throws(SIPParseError) -> String {
        let value = try single(.callID)
        try value.withBytes { (bytes) throws(SIPParseError) in try EssentialHeaders.checkCallID(bytes) }
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
        let lines = lines(.contact)
        if lines.count == 1, lines[0] == "*" { return [.wildcard] }
        var result: [ContactValue] = []
        for line in lines {
            guard line != "*" else { throw SIPParseError(element: "Contact", reason: "'*' mixed with other contacts") }
            result += try addresses(line, element: "Contact").map { .address($0) }
        }
        return result
    }

    public func addresses(_ name: SIPHeaderName) throws(SIPParseError) -> [NameAddress] {
        var result: [NameAddress] = []
        for line in lines(name) { result += try addresses(line, element: name.canonical) }
        return result
    }

    private func addresses(_ line: String, element: String) throws(SIPParseError) -> [NameAddress] {
        try line.withBytes { (bytes) throws(SIPParseError) -> [NameAddress] in try NameAddress.parseList(bytes, element: element) }
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
        return Int(try first.withBytes { (bytes) throws(SIPParseError) -> UInt64 in try EssentialHeaders.number(bytes, limit: limit, name) })
    }
}
