/// Typed views of the headers a registrar and a B2BUA rely on. Each throws a `SIPParseError`
/// naming the header, so a fault becomes a precise `400`.
extension SIPHeaders {
    public func vias() throws(SIPParseError) -> [Via] {
        var result: [Via] = []
        for index in entries.indices where entries[index].name == .via {
            result += try withValueBytes(at: index) { (bytes) throws(SIPParseError) -> [Via] in try Via.parseList(bytes).vias }
        }
        return result
    }

    public func topVia() throws(SIPParseError) -> Via {
        guard let first = firstIndex(of: .via) else { throw SIPParseError(element: "Via", reason: "missing") }
        return try withValueBytes(at: first) { (bytes) throws(SIPParseError) -> Via in
            var cursor = ByteCursor(bytes)
            return try Via.parse(&cursor)!
        }
    }

    public func from() throws(SIPParseError) -> NameAddress { try singleAddress(.from) }
    public func to() throws(SIPParseError) -> NameAddress { try singleAddress(.to) }

    public func callID() throws(SIPParseError) -> String {
        let index = try single(.callID)
        try withValueBytes(at: index) { (bytes) throws(SIPParseError) in try EssentialHeaders.checkCallID(bytes) }
        return value(at: index)
    }

    public func cseq() throws(SIPParseError) -> CSeq {
        try withValueBytes(at: try single(.cseq)) { (bytes) throws(SIPParseError) -> CSeq in try CSeq.parse(bytes) }
    }

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
        for index in entries.indices where entries[index].name == name {
            result += try withValueBytes(at: index) { (bytes) throws(SIPParseError) -> [NameAddress] in
                try NameAddress.parseList(bytes, element: name.canonical)
            }
        }
        return result
    }

    private func addresses(_ line: String, element: String) throws(SIPParseError) -> [NameAddress] {
        try line.withBytes { (bytes) throws(SIPParseError) -> [NameAddress] in try NameAddress.parseList(bytes, element: element) }
    }

    /// Option tags or methods of Allow, Supported, Require, Proxy-Require, Unsupported.
    public func tokens(_ name: SIPHeaderName) -> [String] { values(name) }

    /// The index of the one line with this name.
    private func single(_ name: SIPHeaderName) throws(SIPParseError) -> Int {
        guard let index = try optionalSingle(name) else { throw SIPParseError(element: name.canonical, reason: "missing") }
        return index
    }

    /// The index of the line with this name, nil when there is none.
    private func optionalSingle(_ name: SIPHeaderName) throws(SIPParseError) -> Int? {
        guard let first = firstIndex(of: name) else { return nil }
        guard !entries[(first + 1)...].contains(where: { $0.name == name }) else {
            throw SIPParseError(element: name.canonical, reason: "more than one value")
        }
        return first
    }

    private func singleAddress(_ name: SIPHeaderName) throws(SIPParseError) -> NameAddress {
        try withValueBytes(at: try single(name)) { (bytes) throws(SIPParseError) -> NameAddress in
            try NameAddress.parseSingle(bytes, element: name.canonical)!
        }
    }

    private func optionalNumber(_ name: SIPHeaderName, limit: UInt64) throws(SIPParseError) -> Int? {
        guard let index = try optionalSingle(name) else { return nil }
        return Int(try withValueBytes(at: index) { (bytes) throws(SIPParseError) -> UInt64 in
            try EssentialHeaders.number(bytes, limit: limit, name)
        })
    }
}
