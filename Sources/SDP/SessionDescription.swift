/// An SDP session description (RFC 8866).
///
/// Fields keep the peer's text wherever a typed value could not be written back unchanged, so a
/// description parsed from canonical input serializes to the same bytes.
public struct SessionDescription: Sendable, Hashable {
    /// `v=`; only 0 exists.
    public var version: Int
    public var origin: Origin
    /// `s=`; RFC 8866 asks for "-" when there is no name, but empty ones are seen and kept.
    public var sessionName: String
    public var information: String?
    public var uri: String?
    public var emails: [String]
    public var phones: [String]
    /// Session-level `c=`; media-level ones override it.
    public var connection: Connection?
    public var bandwidths: [Bandwidth]
    public var timings: [Timing]
    /// `k=`, obsolete but still legal; kept verbatim.
    public var key: String?
    /// Session-level `a=` lines in their original order.
    public var attributes: [SDPAttribute]
    public var media: [MediaDescription]

    public init(
        version: Int = 0,
        origin: Origin,
        sessionName: String = "-",
        information: String? = nil,
        uri: String? = nil,
        emails: [String] = [],
        phones: [String] = [],
        connection: Connection? = nil,
        bandwidths: [Bandwidth] = [],
        timings: [Timing] = [Timing(start: 0, stop: 0)],
        key: String? = nil,
        attributes: [SDPAttribute] = [],
        media: [MediaDescription] = []
    ) {
        self.version = version
        self.origin = origin
        self.sessionName = sessionName
        self.information = information
        self.uri = uri
        self.emails = emails
        self.phones = phones
        self.connection = connection
        self.bandwidths = bandwidths
        self.timings = timings
        self.key = key
        self.attributes = attributes
        self.media = media
    }
}

/// `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>`.
public struct Origin: Sendable, Hashable {
    public var username: String
    /// Digits, kept as text: some stacks use more than 64 bits and the value is only compared.
    public var sessionID: String
    /// Digits, kept as text like `sessionID`; see `incrementingVersion()`.
    public var sessionVersion: String
    public var networkType: String
    public var addressType: String
    public var address: String

    public init(
        username: String = "-",
        sessionID: String,
        sessionVersion: String,
        networkType: String = "IN",
        addressType: String = "IP4",
        address: String
    ) {
        self.username = username
        self.sessionID = sessionID
        self.sessionVersion = sessionVersion
        self.networkType = networkType
        self.addressType = addressType
        self.address = address
    }

    /// Origin for a description we generate; the address type follows the address.
    public init(username: String = "-", sessionID: UInt64, sessionVersion: UInt64, address: String) {
        self.init(
            username: username, sessionID: String(sessionID), sessionVersion: String(sessionVersion),
            addressType: Connection.addressType(of: address), address: address)
    }

    /// A re-offer must carry a higher version (RFC 3264 §8); decimal arithmetic on the text so
    /// versions wider than 64 bits still work.
    public func incrementingVersion() -> Origin {
        var digits = Array(sessionVersion.utf8)
        if digits.isEmpty || !digits.allSatisfy(isDigit) { digits = [0x30] }
        var index = digits.count - 1
        while true {
            if digits[index] == 0x39 {
                digits[index] = 0x30
                if index == 0 {
                    digits.insert(0x31, at: 0)
                    break
                }
                index -= 1
            } else {
                digits[index] += 1
                break
            }
        }
        var copy = self
        copy.sessionVersion = String(decoding: digits, as: UTF8.self)
        return copy
    }
}

/// `c=<nettype> <addrtype> <connection-address>`.
public struct Connection: Sendable, Hashable {
    public var networkType: String
    public var addressType: String
    /// The address without the multicast `/ttl` and `/count` suffixes (IP4 and IP6 only; other
    /// address types keep the whole text here).
    public var address: String
    /// IP4 multicast TTL.
    public var ttl: UInt8?
    /// Number of multicast addresses.
    public var addressCount: UInt32?

    public init(
        networkType: String = "IN", addressType: String, address: String, ttl: UInt8? = nil,
        addressCount: UInt32? = nil
    ) {
        self.networkType = networkType
        self.addressType = addressType
        self.address = address
        self.ttl = ttl
        self.addressCount = addressCount
    }

    /// A unicast IN connection; the address type follows the address.
    public init(address: String) {
        self.init(addressType: Connection.addressType(of: address), address: address)
    }

    static func addressType(of address: String) -> String {
        address.utf8.contains(ASCII.colon) ? "IP6" : "IP4"
    }
}

/// `b=<bwtype>:<bandwidth>`; the unit depends on the type (kbit/s for AS and CT, bit/s for TIAS).
public struct Bandwidth: Sendable, Hashable {
    public var type: String
    public var value: UInt64

    public init(type: String, value: UInt64) {
        self.type = type
        self.value = value
    }
}

/// One time description: `t=` with the `r=` lines and the `z=` line that follow it.
public struct Timing: Sendable, Hashable {
    /// NTP seconds; 0 means unbounded, which is what SIP always uses.
    public var start: UInt64
    public var stop: UInt64
    public var repeats: [RepeatTime]
    public var zoneAdjustments: [ZoneAdjustment]

    public init(start: UInt64, stop: UInt64, repeats: [RepeatTime] = [], zoneAdjustments: [ZoneAdjustment] = []) {
        self.start = start
        self.stop = stop
        self.repeats = repeats
        self.zoneAdjustments = zoneAdjustments
    }
}

/// A duration written with an optional unit letter (`7d`, `25h`, `3600`), kept in its written
/// form so it serializes unchanged.
public struct TypedTime: Sendable, Hashable, CustomStringConvertible {
    public enum Unit: UInt8, Sendable, Hashable {
        case days = 0x64  // d
        case hours = 0x68  // h
        case minutes = 0x6D  // m
        case seconds = 0x73  // s

        var multiplier: Int64 {
            switch self {
            case .days: 86_400
            case .hours: 3_600
            case .minutes: 60
            case .seconds: 1
            }
        }
    }

    public var value: Int64
    public var unit: Unit?

    public init(value: Int64, unit: Unit? = nil) {
        self.value = value
        self.unit = unit
    }

    /// Nil when the product does not fit 64 bits.
    public var seconds: Int64? {
        let (product, overflow) = value.multipliedReportingOverflow(by: unit?.multiplier ?? 1)
        return overflow ? nil : product
    }

    public var description: String {
        guard let unit else { return String(value) }
        return String(value) + String(Unicode.Scalar(unit.rawValue))
    }
}

/// `r=<repeat interval> <active duration> <offsets from start-time>`.
public struct RepeatTime: Sendable, Hashable {
    public var interval: TypedTime
    public var activeDuration: TypedTime
    public var offsets: [TypedTime]

    public init(interval: TypedTime, activeDuration: TypedTime, offsets: [TypedTime]) {
        self.interval = interval
        self.activeDuration = activeDuration
        self.offsets = offsets
    }
}

/// One `<adjustment time> <offset>` pair of a `z=` line.
public struct ZoneAdjustment: Sendable, Hashable {
    public var time: UInt64
    public var offset: TypedTime

    public init(time: UInt64, offset: TypedTime) {
        self.time = time
        self.offset = offset
    }
}

/// `a=<name>` or `a=<name>:<value>`. Kept as a pair rather than parsed, so attributes this module
/// does not know survive unchanged; typed views live in `MediaAttributes.swift`.
public struct SDPAttribute: Sendable, Hashable, CustomStringConvertible {
    public var name: String
    /// Nil for a property attribute (`a=sendrecv`); empty for `a=name:`.
    public var value: String?

    public init(_ name: String, _ value: String? = nil) {
        self.name = name
        self.value = value
    }

    public var description: String {
        guard let value else { return "a=" + name }
        return "a=" + name + ":" + value
    }
}

extension Array where Element == SDPAttribute {
    public func first(named name: String) -> SDPAttribute? {
        first { $0.name == name }
    }

    public func all(named name: String) -> [SDPAttribute] {
        filter { $0.name == name }
    }

    public func contains(named name: String) -> Bool {
        contains { $0.name == name }
    }
}
