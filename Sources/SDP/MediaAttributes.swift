// Typed views of the media attributes the edge acts on. The attribute list itself stays the
// source of truth; a malformed entry is skipped by these accessors (and reported by the
// throwing initialisers), so one odd line does not make the whole stream unreadable.

/// `a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>]`.
public struct RTPMap: Sendable, Hashable, CustomStringConvertible {
    public var payloadType: UInt8
    public var encoding: String
    public var clockRate: UInt32
    /// Audio channels; nil when the line does not say (which means 1).
    public var channels: UInt8?

    public init(payloadType: UInt8, encoding: String, clockRate: UInt32, channels: UInt8? = nil) {
        self.payloadType = payloadType
        self.encoding = encoding
        self.clockRate = clockRate
        self.channels = channels
    }

    public init(parsing value: String) throws(SDPAttributeError) {
        func fail(_ reason: String) -> SDPAttributeError { SDPAttributeError(attribute: "rtpmap", reason: reason) }
        let fields = splitFields(Bytes(value.utf8))
        guard fields.count == 2 else {
            throw fail("expected '<payload type> <encoding>/<clock rate>[/<channels>]', found \(quoted(value))")
        }
        guard case .value(let payloadType) = parseDecimal(fields[0]), payloadType <= 127 else {
            throw fail("payload type \(quoted(fields[0])) is not a number in 0...127")
        }
        let parts = split(fields[1], on: ASCII.slash)
        guard parts.count == 2 || parts.count == 3 else {
            throw fail("expected '<encoding>/<clock rate>[/<channels>]', found \(quoted(fields[1]))")
        }
        guard isToken(parts[0]) else { throw fail("encoding name \(quoted(parts[0])) is not a token") }
        guard case .value(let clockRate) = parseDecimal(parts[1]), clockRate >= 1, clockRate <= UInt64(UInt32.max) else {
            throw fail("clock rate \(quoted(parts[1])) is not a positive number")
        }
        var channels: UInt8?
        if parts.count == 3 {
            guard case .value(let count) = parseDecimal(parts[2]), count >= 1, count <= 255 else {
                throw fail("channel count \(quoted(parts[2])) is not a number in 1...255")
            }
            channels = UInt8(count)
        }
        self.init(
            payloadType: UInt8(payloadType), encoding: string(parts[0]), clockRate: UInt32(clockRate),
            channels: channels)
    }

    /// The attribute value, e.g. "0 PCMU/8000".
    public var value: String {
        var text = String(payloadType) + " " + encoding + "/" + String(clockRate)
        if let channels { text += "/" + String(channels) }
        return text
    }

    public var attribute: SDPAttribute { SDPAttribute("rtpmap", value) }

    public var description: String { value }

    /// RFC 3551 static assignments, which peers may use without an `a=rtpmap` line.
    public static func staticPayloadType(_ payloadType: UInt8) -> RTPMap? {
        let entry: (String, UInt32, UInt8?)
        switch payloadType {
        case 0: entry = ("PCMU", 8_000, nil)
        case 3: entry = ("GSM", 8_000, nil)
        case 4: entry = ("G723", 8_000, nil)
        case 5: entry = ("DVI4", 8_000, nil)
        case 6: entry = ("DVI4", 16_000, nil)
        case 7: entry = ("LPC", 8_000, nil)
        case 8: entry = ("PCMA", 8_000, nil)
        case 9: entry = ("G722", 8_000, nil)
        case 10: entry = ("L16", 44_100, 2)
        case 11: entry = ("L16", 44_100, nil)
        case 12: entry = ("QCELP", 8_000, nil)
        case 13: entry = ("CN", 8_000, nil)
        case 14: entry = ("MPA", 90_000, nil)
        case 15: entry = ("G728", 8_000, nil)
        case 16: entry = ("DVI4", 11_025, nil)
        case 17: entry = ("DVI4", 22_050, nil)
        case 18: entry = ("G729", 8_000, nil)
        case 25: entry = ("CelB", 90_000, nil)
        case 26: entry = ("JPEG", 90_000, nil)
        case 28: entry = ("nv", 90_000, nil)
        case 31: entry = ("H261", 90_000, nil)
        case 32: entry = ("MPV", 90_000, nil)
        case 33: entry = ("MP2T", 90_000, nil)
        case 34: entry = ("H263", 90_000, nil)
        default: return nil
        }
        return RTPMap(payloadType: payloadType, encoding: entry.0, clockRate: entry.1, channels: entry.2)
    }
}

/// The four direction attributes (RFC 3264 §5.1).
public enum MediaDirection: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case sendrecv
    case sendonly
    case recvonly
    case inactive

    /// What the other side of the stream does: the direction an answer gives to an offer.
    public var reversed: MediaDirection {
        switch self {
        case .sendrecv: .sendrecv
        case .sendonly: .recvonly
        case .recvonly: .sendonly
        case .inactive: .inactive
        }
    }

    public var sends: Bool { self == .sendrecv || self == .sendonly }
    public var receives: Bool { self == .sendrecv || self == .recvonly }

    public var attribute: SDPAttribute { SDPAttribute(rawValue) }

    public var description: String { rawValue }
}

/// `a=rtcp:<port> [<nettype> <addrtype> <address>]` (RFC 3605): where RTCP goes when it is not
/// on the RTP port + 1, typically behind NAT.
public struct RTCPAttribute: Sendable, Hashable, CustomStringConvertible {
    public var port: UInt16
    public var connection: Connection?

    public init(port: UInt16, connection: Connection? = nil) {
        self.port = port
        self.connection = connection
    }

    public init(parsing value: String) throws(SDPAttributeError) {
        func fail(_ reason: String) -> SDPAttributeError { SDPAttributeError(attribute: "rtcp", reason: reason) }
        let fields = splitFields(Bytes(value.utf8))
        guard fields.count == 1 || fields.count == 4 else {
            throw fail("expected '<port> [<network type> <address type> <address>]', found \(quoted(value))")
        }
        guard case .value(let port) = parseDecimal(fields[0]), port <= 65_535 else {
            throw fail("port \(quoted(fields[0])) is not a number in 0...65535")
        }
        self.port = UInt16(port)
        if fields.count == 4 {
            guard isToken(fields[1]), isToken(fields[2]) else {
                throw fail("network type and address type must be tokens, found \(quoted(value))")
            }
            connection = Connection(
                networkType: string(fields[1]), addressType: string(fields[2]), address: string(fields[3]))
        }
    }

    public var value: String {
        guard let connection else { return String(port) }
        return String(port) + " " + connection.networkType + " " + connection.addressType + " " + connection.address
    }

    public var attribute: SDPAttribute { SDPAttribute("rtcp", value) }

    public var description: String { value }
}

/// The events list of a telephone-event `a=fmtp` (RFC 4733 §7.1.1), e.g. "0-15,66,70".
public struct TelephoneEventSet: Sendable, Hashable, CustomStringConvertible {
    public var ranges: [ClosedRange<UInt8>]

    public init(_ ranges: [ClosedRange<UInt8>]) {
        self.ranges = ranges
    }

    /// DTMF 0-9, *, #, A-D: also what a receiver assumes when no list is given.
    public static let dtmf = TelephoneEventSet([0...15])

    public init(parsing value: String) throws(SDPAttributeError) {
        func fail(_ reason: String) -> SDPAttributeError { SDPAttributeError(attribute: "fmtp", reason: reason) }
        var ranges: [ClosedRange<UInt8>] = []
        for item in split(Bytes(value.utf8), on: ASCII.comma) {
            let trimmed = splitFields(item)
            guard trimmed.count == 1 else { throw fail("event list \(quoted(value)) has an empty or blank item") }
            let bounds = split(trimmed[0], on: ASCII.minus)
            guard bounds.count <= 2,
                case .value(let low) = parseDecimal(bounds[0]), low <= 255,
                case .value(let high) = parseDecimal(bounds.count == 2 ? bounds[1] : bounds[0]), high <= 255,
                low <= high
            else {
                throw fail("event range \(quoted(trimmed[0])) is not '<n>' or '<n>-<m>' with 0 ≤ n ≤ m ≤ 255")
            }
            ranges.append(UInt8(low)...UInt8(high))
        }
        self.ranges = ranges
    }

    public func contains(_ event: UInt8) -> Bool {
        ranges.contains { $0.contains(event) }
    }

    public var description: String {
        ranges.map { $0.lowerBound == $0.upperBound ? String($0.lowerBound) : "\($0.lowerBound)-\($0.upperBound)" }
            .joined(separator: ",")
    }
}

/// A telephone-event payload format offered on a stream.
public struct TelephoneEventFormat: Sendable, Hashable {
    public var payloadType: UInt8
    public var clockRate: UInt32
    /// The fmtp list, or DTMF 0-15 when the fmtp is absent or unreadable (RFC 4733 §7.1.1).
    public var events: TelephoneEventSet

    public init(payloadType: UInt8, clockRate: UInt32, events: TelephoneEventSet = .dtmf) {
        self.payloadType = payloadType
        self.clockRate = clockRate
        self.events = events
    }
}

extension MediaDescription {
    /// Well-formed `a=rtpmap` entries, in order.
    public var rtpMaps: [RTPMap] {
        attributes.compactMap { attribute in
            guard attribute.name == "rtpmap", let value = attribute.value else { return nil }
            return try? RTPMap(parsing: value)
        }
    }

    /// Formats that are RTP payload type numbers, in offer order.
    public var payloadTypes: [UInt8] {
        formats.compactMap { format in
            guard case .value(let number) = parseDecimal(Bytes(format.utf8)), number <= 127 else { return nil }
            return UInt8(number)
        }
    }

    /// The `a=rtpmap` for a payload type, or its RFC 3551 static assignment when there is none.
    public func rtpMap(forPayloadType payloadType: UInt8) -> RTPMap? {
        for attribute in attributes where attribute.name == "rtpmap" {
            guard let value = attribute.value else { continue }
            let number = Bytes(value.utf8).prefix(while: isDigit)
            guard parseDecimal(number) == .value(UInt64(payloadType)), let map = try? RTPMap(parsing: value) else {
                continue
            }
            return map
        }
        return RTPMap.staticPayloadType(payloadType)
    }

    /// The parameters of `a=fmtp:<format> <parameters>`, verbatim.
    public func formatParameters(forFormat format: String) -> String? {
        for attribute in attributes where attribute.name == "fmtp" {
            guard let value = attribute.value, let (key, parameters) = Self.splitFormatParameters(value), key == format
            else { continue }
            return parameters
        }
        return nil
    }

    public func formatParameters(forPayloadType payloadType: UInt8) -> String? {
        formatParameters(forFormat: String(payloadType))
    }

    /// `a=ptime` in milliseconds (a fractional value is truncated).
    public var ptime: Int? { milliseconds(attribute: "ptime") }

    /// `a=maxptime` in milliseconds.
    public var maxptime: Int? { milliseconds(attribute: "maxptime") }

    /// The direction attribute written on this media description; see
    /// `SessionDescription.direction(of:)` for the one that applies.
    public var direction: MediaDirection? {
        for attribute in attributes where attribute.value == nil {
            if let direction = MediaDirection(rawValue: attribute.name) { return direction }
        }
        return nil
    }

    public var rtcp: RTCPAttribute? {
        for attribute in attributes where attribute.name == "rtcp" {
            if let value = attribute.value, let parsed = try? RTCPAttribute(parsing: value) { return parsed }
        }
        return nil
    }

    /// `a=rtcp-mux` (RFC 5761): RTP and RTCP share the port.
    public var rtcpMux: Bool { attributes.contains(named: "rtcp-mux") }

    /// telephone-event formats listed on the m= line, in its order.
    public var telephoneEvents: [TelephoneEventFormat] {
        let maps = rtpMapTable()
        let parameters = formatParametersTable()
        var result: [TelephoneEventFormat] = []
        for payloadType in payloadTypes {
            guard let map = maps[payloadType], map.encoding.lowercased() == "telephone-event" else { continue }
            let events = parameters[String(payloadType)].flatMap { try? TelephoneEventSet(parsing: $0) } ?? .dtmf
            result.append(TelephoneEventFormat(payloadType: payloadType, clockRate: map.clockRate, events: events))
        }
        return result
    }

    /// The telephone-event format at `clockRate`, or the first one when none matches or no rate is
    /// given.
    public func telephoneEvent(clockRate: UInt32? = nil) -> TelephoneEventFormat? {
        let all = telephoneEvents
        if let clockRate, let matching = all.first(where: { $0.clockRate == clockRate }) { return matching }
        return all.first
    }

    /// SAVP or SAVPF profile.
    public var isSecure: Bool { transport.isSecure }

    // One pass over the attributes, first entry wins; avoids a scan per format.
    func rtpMapTable() -> [UInt8: RTPMap] {
        var table: [UInt8: RTPMap] = [:]
        for map in rtpMaps where table[map.payloadType] == nil { table[map.payloadType] = map }
        return table
    }

    func formatParametersTable() -> [String: String] {
        var table: [String: String] = [:]
        for attribute in attributes where attribute.name == "fmtp" {
            guard let value = attribute.value, let (key, parameters) = Self.splitFormatParameters(value) else { continue }
            if table[key] == nil { table[key] = parameters }
        }
        return table
    }

    /// "<format> <parameters>" → (format, parameters); the parameters are kept verbatim.
    private static func splitFormatParameters(_ value: String) -> (String, String)? {
        let bytes = Bytes(value.utf8)
        let format = bytes.prefix { !isWhitespace($0) }
        guard !format.isEmpty else { return nil }
        return (string(format), string(bytes[format.endIndex...].drop(while: isWhitespace)))
    }

    private func milliseconds(attribute name: String) -> Int? {
        guard let value = attributes.first(named: name)?.value else { return nil }
        let bytes = Bytes(value.utf8)
        let whole = bytes.prefix { $0 != UInt8(ascii: ".") }
        let fraction = bytes[whole.endIndex...].dropFirst()
        guard case .value(let number) = parseDecimal(whole), number <= UInt64(Int32.max),
            whole.endIndex == bytes.endIndex || fraction.allSatisfy(isDigit)
        else { return nil }
        return Int(number)
    }
}

extension SessionDescription {
    /// The session-level direction attribute, which media without their own inherit.
    public var direction: MediaDirection? {
        for attribute in attributes where attribute.value == nil {
            if let direction = MediaDirection(rawValue: attribute.name) { return direction }
        }
        return nil
    }

    /// The direction that applies to `media`: its own, else the session's, else sendrecv.
    public func direction(of media: MediaDescription) -> MediaDirection {
        media.direction ?? direction ?? .sendrecv
    }

    /// The connection that applies to `media`: its own, else the session's.
    public func connection(of media: MediaDescription) -> Connection? {
        media.connections.first ?? connection
    }
}
