extension SessionDescription {
    /// Parses an SDP body. Accepts CRLF and bare LF line endings and trailing blank lines; every
    /// other deviation from RFC 8866 that matters is an `SDPParseError` naming the line.
    public init(parsing bytes: some Collection<UInt8>, limits: SDPLimits = .default) throws(SDPParseError) {
        let size = bytes.count
        guard size <= limits.maxBytes else {
            throw SDPParseError(
                line: nil, lineType: nil,
                reason: "session description is \(size) bytes, more than the limit of \(limits.maxBytes)")
        }
        var parser = SDPParser(bytes: Array(bytes), limits: limits)
        self = try parser.parse()
    }

    public init(parsing text: String, limits: SDPLimits = .default) throws(SDPParseError) {
        try self.init(parsing: text.utf8, limits: limits)
    }
}

/// One pass over the bytes, one line at a time; every step is linear in the line it reads.
struct SDPParser {
    let bytes: [UInt8]
    let limits: SDPLimits
    private var position = 0
    private var lineNumber = 0
    private var lineType: Character?
    private var attributeCount = 0

    init(bytes: [UInt8], limits: SDPLimits) {
        self.bytes = bytes
        self.limits = limits
    }

    private func fail(_ reason: String) -> SDPParseError {
        SDPParseError(line: lineNumber, lineType: lineType, reason: reason)
    }

    private static func letter(_ type: UInt8) -> Character { Character(Unicode.Scalar(type)) }

    mutating func parse() throws(SDPParseError) -> SessionDescription {
        guard let versionLine = try nextLine() else {
            throw SDPParseError(line: nil, lineType: nil, reason: "session description is empty")
        }
        guard versionLine.type == UInt8(ascii: "v") else { throw fail("the first line must be v=") }
        let version = try parseVersion(versionLine.value)

        guard let originLine = try nextLine() else { throw missing("o=", after: "v=") }
        guard originLine.type == UInt8(ascii: "o") else { throw fail("expected the o= line after v=") }
        let origin = try parseOrigin(originLine.value)

        guard let nameLine = try nextLine() else { throw missing("s=", after: "o=") }
        guard nameLine.type == UInt8(ascii: "s") else { throw fail("expected the s= line after o=") }

        var description = SessionDescription(
            version: version, origin: origin, sessionName: string(nameLine.value), timings: [])
        var current: MediaDescription?
        while let line = try nextLine() {
            if line.type == UInt8(ascii: "m") {
                if let finished = current { description.media.append(finished) }
                guard description.media.count < limits.maxMediaDescriptions else {
                    throw fail("more than \(limits.maxMediaDescriptions) media descriptions")
                }
                current = try parseMediaLine(line.value)
            } else if current != nil {
                try parseMediaLevel(line, into: &current!)
            } else {
                try parseSessionLevel(line, into: &description)
            }
        }
        if let finished = current { description.media.append(finished) }
        return description
    }

    private func missing(_ type: String, after previous: String) -> SDPParseError {
        SDPParseError(line: nil, lineType: nil, reason: "missing the \(type) line after \(previous)")
    }

    // MARK: Lines

    private mutating func nextLine() throws(SDPParseError) -> (type: UInt8, value: Bytes)? {
        guard position < bytes.count else { return nil }
        let start = position
        var end = start
        while end < bytes.count, bytes[end] != ASCII.lf { end += 1 }
        position = end < bytes.count ? end + 1 : end
        var contentEnd = end
        if contentEnd > start, bytes[contentEnd - 1] == ASCII.cr { contentEnd -= 1 }
        let content = bytes[start..<contentEnd]

        lineNumber += 1
        lineType = nil
        if content.isEmpty {
            // Blank lines are tolerated at the end only: some stacks terminate the body twice.
            if bytes[position...].allSatisfy({ $0 == ASCII.cr || $0 == ASCII.lf }) {
                position = bytes.count
                return nil
            }
            throw fail("empty line")
        }
        guard lineNumber <= limits.maxLines else { throw fail("more than \(limits.maxLines) lines") }

        let type = content[start]
        guard content.count >= 2, type >= UInt8(ascii: "a"), type <= UInt8(ascii: "z"),
            content[start + 1] == ASCII.equals
        else {
            throw fail("\(quoted(content)) is not of the form <type>=<value>")
        }
        lineType = Self.letter(type)
        let value = content.dropFirst(2)
        var ascii = true
        for byte in value {
            if byte == 0 { throw fail("contains a NUL byte") }
            if byte == ASCII.cr { throw fail("contains a CR that does not end the line") }
            if byte >= 0x80 { ascii = false }
        }
        if !ascii, String(validating: value, as: UTF8.self) == nil {
            throw fail("is not valid UTF-8")
        }
        return (type, value)
    }

    private mutating func parseSessionLevel(_ line: (type: UInt8, value: Bytes), into description: inout SessionDescription)
        throws(SDPParseError)
    {
        let value = line.value
        switch line.type {
        case UInt8(ascii: "i"):
            guard description.information == nil else { throw duplicate() }
            description.information = string(value)
        case UInt8(ascii: "u"):
            guard description.uri == nil else { throw duplicate() }
            description.uri = string(value)
        case UInt8(ascii: "e"):
            description.emails.append(string(value))
        case UInt8(ascii: "p"):
            description.phones.append(string(value))
        case UInt8(ascii: "c"):
            guard description.connection == nil else { throw duplicate() }
            description.connection = try parseConnection(value)
        case UInt8(ascii: "b"):
            description.bandwidths.append(try parseBandwidth(value))
        case UInt8(ascii: "t"):
            description.timings.append(try parseTiming(value))
        case UInt8(ascii: "r"):
            guard !description.timings.isEmpty else { throw fail("must follow a t= line") }
            let repeatTime = try parseRepeat(value)
            description.timings[description.timings.count - 1].repeats.append(repeatTime)
        case UInt8(ascii: "z"):
            guard !description.timings.isEmpty else { throw fail("must follow a t= line") }
            guard description.timings[description.timings.count - 1].zoneAdjustments.isEmpty else {
                throw fail("duplicate z= line for the same t= line")
            }
            description.timings[description.timings.count - 1].zoneAdjustments = try parseZone(value)
        case UInt8(ascii: "k"):
            guard description.key == nil else { throw duplicate() }
            description.key = string(value)
        case UInt8(ascii: "a"):
            description.attributes.append(try parseAttribute(value))
        case UInt8(ascii: "v"), UInt8(ascii: "o"), UInt8(ascii: "s"):
            throw fail("only one \(Self.letter(line.type))= line is allowed, at the start")
        default:
            throw fail("unknown line type")
        }
    }

    private mutating func parseMediaLevel(_ line: (type: UInt8, value: Bytes), into media: inout MediaDescription)
        throws(SDPParseError)
    {
        let value = line.value
        switch line.type {
        case UInt8(ascii: "i"):
            guard media.information == nil else { throw duplicate() }
            media.information = string(value)
        case UInt8(ascii: "c"):
            media.connections.append(try parseConnection(value))
        case UInt8(ascii: "b"):
            media.bandwidths.append(try parseBandwidth(value))
        case UInt8(ascii: "k"):
            guard media.key == nil else { throw duplicate() }
            media.key = string(value)
        case UInt8(ascii: "a"):
            media.attributes.append(try parseAttribute(value))
        case UInt8(ascii: "v"), UInt8(ascii: "o"), UInt8(ascii: "s"), UInt8(ascii: "u"), UInt8(ascii: "e"),
            UInt8(ascii: "p"), UInt8(ascii: "t"), UInt8(ascii: "r"), UInt8(ascii: "z"):
            throw fail("not allowed in a media description (session-level lines come before the first m=)")
        default:
            throw fail("unknown line type")
        }
    }

    private func duplicate() -> SDPParseError {
        fail("duplicate line; at most one is allowed per section")
    }

    // MARK: Fields

    private func parseVersion(_ value: Bytes) throws(SDPParseError) -> Int {
        guard parseDecimal(value) == .value(0) else { throw fail("unsupported version \(quoted(value)), only 0 exists") }
        return 0
    }

    private func parseOrigin(_ value: Bytes) throws(SDPParseError) -> Origin {
        let fields = splitFields(value)
        guard fields.count == 6 else {
            throw fail(
                "expected 6 fields (username, session id, session version, network type, address type, address), found \(fields.count)"
            )
        }
        guard fields[1].allSatisfy(isDigit) else { throw fail("session id \(quoted(fields[1])) is not a number") }
        guard fields[2].allSatisfy(isDigit) else { throw fail("session version \(quoted(fields[2])) is not a number") }
        guard isToken(fields[3]) else { throw fail("network type \(quoted(fields[3])) is not a token") }
        guard isToken(fields[4]) else { throw fail("address type \(quoted(fields[4])) is not a token") }
        return Origin(
            username: string(fields[0]), sessionID: string(fields[1]), sessionVersion: string(fields[2]),
            networkType: string(fields[3]), addressType: string(fields[4]), address: string(fields[5]))
    }

    private func parseConnection(_ value: Bytes) throws(SDPParseError) -> Connection {
        let fields = splitFields(value)
        guard fields.count == 3 else {
            throw fail("expected 3 fields (network type, address type, address), found \(fields.count)")
        }
        guard isToken(fields[0]) else { throw fail("network type \(quoted(fields[0])) is not a token") }
        guard isToken(fields[1]) else { throw fail("address type \(quoted(fields[1])) is not a token") }
        let addressType = string(fields[1])
        var connection = Connection(
            networkType: string(fields[0]), addressType: addressType, address: string(fields[2]))
        let isIP4 = addressType == "IP4"
        guard isIP4 || addressType == "IP6" else { return connection }

        let parts = split(fields[2], on: ASCII.slash)
        guard !parts[0].isEmpty else { throw fail("address \(quoted(fields[2])) has no address before '/'") }
        connection.address = string(parts[0])
        var countPart: Bytes?
        switch (isIP4, parts.count) {
        case (_, 1):
            break
        case (true, 2), (true, 3):
            guard case .value(let ttl) = parseDecimal(parts[1]), ttl <= 255 else {
                throw fail("multicast TTL \(quoted(parts[1])) is not a number in 0...255")
            }
            connection.ttl = UInt8(ttl)
            countPart = parts.count == 3 ? parts[2] : nil
        case (false, 2):
            countPart = parts[1]
        default:
            throw fail("address \(quoted(fields[2])) has too many '/' suffixes")
        }
        if let countPart {
            guard case .value(let count) = parseDecimal(countPart), count >= 1, count <= UInt64(UInt32.max) else {
                throw fail("multicast address count \(quoted(countPart)) is not a positive number")
            }
            connection.addressCount = UInt32(count)
        }
        return connection
    }

    private func parseBandwidth(_ value: Bytes) throws(SDPParseError) -> Bandwidth {
        let fields = splitFields(value)
        guard fields.count == 1, let colon = fields[0].firstIndex(of: ASCII.colon) else {
            throw fail("expected '<type>:<bandwidth>', found \(quoted(value))")
        }
        let type = fields[0][..<colon]
        let amount = fields[0][(colon + 1)...]
        guard isToken(type) else { throw fail("bandwidth type \(quoted(type)) is not a token") }
        guard case .value(let number) = parseDecimal(amount) else {
            throw fail("bandwidth \(quoted(amount)) is not a number")
        }
        return Bandwidth(type: string(type), value: number)
    }

    private func parseTiming(_ value: Bytes) throws(SDPParseError) -> Timing {
        let fields = splitFields(value)
        guard fields.count == 2 else { throw fail("expected '<start time> <stop time>', found \(fields.count) field(s)") }
        guard case .value(let start) = parseDecimal(fields[0]) else {
            throw fail("start time \(quoted(fields[0])) is not a number")
        }
        guard case .value(let stop) = parseDecimal(fields[1]) else {
            throw fail("stop time \(quoted(fields[1])) is not a number")
        }
        return Timing(start: start, stop: stop)
    }

    private func parseRepeat(_ value: Bytes) throws(SDPParseError) -> RepeatTime {
        let fields = splitFields(value)
        guard fields.count >= 3 else {
            throw fail("expected '<interval> <active duration> <offset> …', found \(fields.count) field(s)")
        }
        let interval = try parseTypedTime(fields[0], what: "repeat interval", signed: false)
        let duration = try parseTypedTime(fields[1], what: "active duration", signed: false)
        var offsets: [TypedTime] = []
        offsets.reserveCapacity(fields.count - 2)
        for field in fields.dropFirst(2) {
            offsets.append(try parseTypedTime(field, what: "offset", signed: false))
        }
        return RepeatTime(interval: interval, activeDuration: duration, offsets: offsets)
    }

    private func parseZone(_ value: Bytes) throws(SDPParseError) -> [ZoneAdjustment] {
        let fields = splitFields(value)
        guard !fields.isEmpty, fields.count % 2 == 0 else {
            throw fail("expected pairs of '<adjustment time> <offset>', found \(fields.count) field(s)")
        }
        var adjustments: [ZoneAdjustment] = []
        adjustments.reserveCapacity(fields.count / 2)
        var index = 0
        while index < fields.count {
            guard case .value(let time) = parseDecimal(fields[index]) else {
                throw fail("adjustment time \(quoted(fields[index])) is not a number")
            }
            let offset = try parseTypedTime(fields[index + 1], what: "zone offset", signed: true)
            adjustments.append(ZoneAdjustment(time: time, offset: offset))
            index += 2
        }
        return adjustments
    }

    private func parseTypedTime(_ field: Bytes, what: String, signed: Bool) throws(SDPParseError) -> TypedTime {
        var digits = field
        var negative = false
        if signed, digits.first == ASCII.minus {
            negative = true
            digits = digits.dropFirst()
        }
        var unit: TypedTime.Unit?
        if let last = digits.last, let parsed = TypedTime.Unit(rawValue: last) {
            unit = parsed
            digits = digits.dropLast()
        }
        guard case .value(let magnitude) = parseDecimal(digits), magnitude <= UInt64(Int64.max) else {
            throw fail("\(what) \(quoted(field)) is not a time (digits with an optional d, h, m or s)")
        }
        return TypedTime(value: negative ? -Int64(magnitude) : Int64(magnitude), unit: unit)
    }

    private mutating func parseAttribute(_ value: Bytes) throws(SDPParseError) -> SDPAttribute {
        attributeCount += 1
        guard attributeCount <= limits.maxAttributes else { throw fail("more than \(limits.maxAttributes) attributes") }
        let name: Bytes
        var attributeValue: String?
        if let colon = value.firstIndex(of: ASCII.colon) {
            name = value[..<colon]
            attributeValue = string(value[(colon + 1)...])
        } else {
            name = trimmingTrailingWhitespace(value)
        }
        guard !name.isEmpty else { throw fail("attribute name is empty") }
        guard isToken(name) else { throw fail("attribute name \(quoted(name)) is not a token") }
        return SDPAttribute(string(name), attributeValue)
    }

    private func parseMediaLine(_ value: Bytes) throws(SDPParseError) -> MediaDescription {
        let fields = splitFields(value)
        guard fields.count >= 3 else {
            throw fail("expected '<media> <port> <proto> <format> …', found \(fields.count) field(s)")
        }
        guard isToken(fields[0]) else { throw fail("media type \(quoted(fields[0])) is not a token") }

        let portParts = split(fields[1], on: ASCII.slash, maxSplits: 1)
        let port: UInt16
        switch parseDecimal(portParts[0]) {
        case .notANumber:
            throw fail("port \(quoted(portParts[0])) is not a number")
        case .tooLarge:
            throw fail("port \(quoted(portParts[0])) is out of range 0...65535")
        case .value(let number):
            guard number <= 65_535 else { throw fail("port \(number) is out of range 0...65535") }
            port = UInt16(number)
        }
        var portCount: UInt16?
        if portParts.count == 2 {
            guard case .value(let count) = parseDecimal(portParts[1]), count >= 1, count <= 65_535 else {
                throw fail("port count \(quoted(portParts[1])) is not a number in 1...65535")
            }
            portCount = UInt16(count)
        }

        let proto = fields[2]
        guard split(proto, on: ASCII.slash).allSatisfy(isToken) else {
            throw fail("transport protocol \(quoted(proto)) is not a '/'-separated list of tokens")
        }
        var formats: [String] = []
        formats.reserveCapacity(fields.count - 3)
        for format in fields.dropFirst(3) {
            guard isToken(format) else { throw fail("format \(quoted(format)) is not a token") }
            formats.append(string(format))
        }
        return MediaDescription(
            type: MediaType(rawValue: string(fields[0])), port: port, portCount: portCount,
            transport: TransportProtocol(rawValue: string(proto)), formats: formats)
    }
}
